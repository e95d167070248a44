using ContextCompiler.Cli.Commands;

namespace ContextCompiler.Storage.Postgres.Tests.Copy;

/// <summary><c>contextc migrate</c> on a fresh PGlite database of its own, and on a new SQLite file.</summary>
public sealed class MigrateCommandTests(PgliteServer server) : IClassFixture<PgliteServer>
{
    [PgliteFact]
    public async Task Postgres_prints_the_versions_applied_then_up_to_date()
    {
        string expected = string.Join(", ", PostgresDatabase.Migrations.Select(m => m.Version));

        var first = await Contextc.RunAsync(MigrateCommand.Create(), "migrate", "--provider", "postgres", "--connection-string", server.ConnectionString);
        var second = await Contextc.RunAsync(MigrateCommand.Create(), "migrate", "--provider", "postgres", "--connection-string", server.ConnectionString);

        Assert.True(first.Exit == 0, first.Error);
        Assert.Equal($"postgres: applied {expected}", first.Output.Trim());
        Assert.True(second.Exit == 0, second.Error);
        Assert.Equal("postgres: up to date", second.Output.Trim());
    }

    [Fact]
    public async Task Sqlite_prints_the_versions_applied_then_up_to_date()
    {
        var folder = Directory.CreateTempSubdirectory("contextc-migrate-");
        try
        {
            string path = Path.Combine(folder.FullName, "index.db");
            var first = await Contextc.RunAsync(MigrateCommand.Create(), "migrate", "--db", path, "--provider", "sqlite");
            var second = await Contextc.RunAsync(MigrateCommand.Create(), "migrate", "--db", path, "--provider", "sqlite");

            Assert.True(first.Exit == 0, first.Error);
            Assert.StartsWith($"{path}: applied 1, 2, 3", first.Output.Trim(), StringComparison.Ordinal);
            Assert.Equal($"{path}: up to date", second.Output.Trim());
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Postgres_without_a_connection_string_is_an_invalid_request()
    {
        var result = await Contextc.RunAsync(MigrateCommand.Create(), "migrate", "--provider", "postgres");

        Assert.Equal(ExitCodes.InvalidRequest, result.Exit);
        Assert.Contains("--connection-string", result.Error, StringComparison.Ordinal);
    }
}
