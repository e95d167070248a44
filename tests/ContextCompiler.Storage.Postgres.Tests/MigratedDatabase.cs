namespace ContextCompiler.Storage.Postgres.Tests;

/// <summary>One PGlite server with the schema migrated, shared by the tests of <see cref="MigratedCollection"/>; each test uses its own tenants.</summary>
public sealed class MigratedDatabase : IAsyncLifetime
{
    /// <summary>The server.</summary>
    public PgliteServer Server { get; } = new();

    /// <summary>The migrated database.</summary>
    public PostgresDatabase Database { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        if (Server.ConnectionString.Length == 0)
        {
            return; // Node.js is missing outside CI: the tests are skipped.
        }

        Database = Server.NewDatabase();
        await Database.MigrateAsync();
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (Database is not null)
        {
            await Database.DisposeAsync();
        }

        await Server.DisposeAsync();
    }
}

/// <summary>The tests that share one migrated PGlite server (they run one after another, as PGlite does anyway).</summary>
[CollectionDefinition(Name)]
public sealed class MigratedCollection : ICollectionFixture<MigratedDatabase>
{
    public const string Name = "Migrated PGlite";
}
