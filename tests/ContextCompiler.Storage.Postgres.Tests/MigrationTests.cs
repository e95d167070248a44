namespace ContextCompiler.Storage.Postgres.Tests;

/// <summary>Migrations on a fresh server of its own: replicas starting together apply each migration exactly once.</summary>
public sealed class MigrationTests(PgliteServer server) : IClassFixture<PgliteServer>
{
    [PgliteFact]
    public async Task Racing_replicas_apply_each_migration_once()
    {
        // Two data sources, as two replicas would have, migrating at the same moment.
        await using var first = server.NewDatabase();
        await using var second = server.NewDatabase();
        var both = await Task.WhenAll(first.MigrateAsync(), second.MigrateAsync());

        var expected = PostgresDatabase.Migrations.Select(m => m.Version).ToArray();
        Assert.NotEmpty(expected);
        // Each version was applied by exactly one of them, and recorded once.
        Assert.Equal(expected, both.SelectMany(applied => applied).Order().ToArray());
        Assert.Equal(expected, await first.AppliedVersionsAsync());

        // A third start finds nothing to do, and the schema is there.
        await using var third = server.NewDatabase();
        Assert.Empty(await third.MigrateAsync());
        await using var command = third.DataSource.CreateCommand(
            "SELECT count(*) FROM pg_indexes WHERE indexname IN ('spans_bm25', 'spans_embedding_hnsw', 'spans_needing_vector')");
        Assert.Equal(3L, await command.ExecuteScalarAsync());
    }

    [Fact]
    public void Migrations_are_numbered_from_one_without_gaps()
    {
        var migrations = PostgresDatabase.Migrations;
        Assert.Equal(Enumerable.Range(1, migrations.Count), migrations.Select(m => m.Version));
        Assert.Equal("0001_initial", migrations[0].Name);
        Assert.Contains("USING bm25", migrations[0].Sql, StringComparison.Ordinal);
    }
}
