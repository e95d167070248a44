using System.CommandLine;
using ContextCompiler.Engine.Index;
using ContextCompiler.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using StoreProviders = ContextCompiler.Engine.Stores.StoreProviders;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Cli.Commands;

/// <summary>
/// <c>contextc migrate [--db FILE] [--provider P] [--connection-string C]</c>: applies the store's pending migrations and
/// prints the versions applied, or that the schema was up to date. Output goes to the invocation's writers.
/// </summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var db = CliShared.DatabaseOption();
        var command = new Command("migrate", "Apply the store's pending schema migrations.") { db };
        command.SetAction((result, cancellationToken) =>
        {
            var output = result.InvocationConfiguration.Output;
            return CliShared.Run(result.InvocationConfiguration.Error, async () =>
            {
                var storage = CliShared.Storage;
                IReadOnlyList<int> applied;
                string where;
                if (StoreProviders.Resolve(storage.Provider).Name == StoreProviders.Sqlite)
                {
                    string path = CliShared.SqlitePath(result.GetValue(db)!)!;
                    int before = IndexStore.StoredSchemaVersion(path);
                    // Opening the index is what migrates it (a new file is created with the default model).
                    using var services = CliShared.Services(path);
                    int after = SqliteStore.Of(services).Index.SchemaVersion();
                    applied = Enumerable.Range(before + 1, Math.Max(0, after - before)).ToList();
                    where = path;
                }
                else
                {
                    if (string.IsNullOrWhiteSpace(storage.ConnectionString))
                    {
                        throw new ArgumentException("--connection-string (or ContextCompiler__Storage__ConnectionString) is required for the postgres store.");
                    }

                    await using var database = new PostgresDatabase(storage.ConnectionString);
                    applied = await database.MigrateAsync(cancellationToken);
                    where = "postgres";
                }

                await output.WriteLineAsync(applied.Count == 0
                    ? $"{where}: up to date"
                    : $"{where}: applied {string.Join(", ", applied)}");
                return ExitCodes.Success;
            });
        });
        return command;
    }
}
