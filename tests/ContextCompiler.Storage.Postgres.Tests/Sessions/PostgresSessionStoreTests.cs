using System.Collections.Concurrent;
using ContextCompiler.Engine.Sessions;
using ContextCompiler.Engine.Sessions.Contract;
using Npgsql;

namespace ContextCompiler.Storage.Postgres.Tests.Sessions;

/// <summary>
/// The session store contract on PostgreSQL (PGlite). Replicas alternate between the shared data source and a second
/// one, so concurrent writers also come through two separate pools, as two processes' would.
/// </summary>
[Collection(MigratedCollection.Name)]
public sealed class PostgresSessionStoreTests(MigratedDatabase fixture) : SessionStoreContract
{
    // One second data source per server for the whole run, not one per test: connections a disposed pool closes are
    // not always gone from pglite-socket's count when the next test opens its own, and it resets connections past -m.
    // A pool smaller than the fixture's keeps both under -m with room to spare; the server's disposal clears the pools.
    private static readonly ConcurrentDictionary<string, PostgresDatabase> SecondReplicas = new(StringComparer.Ordinal);

    private int _replicas;

    /// <inheritdoc />
    protected override ISessionRepository NewReplica() =>
        new PostgresSessionRepository(Interlocked.Increment(ref _replicas) % 2 == 0 ? SecondReplica() : fixture.Database, Clock);

    /// <inheritdoc />
    protected override Engine.Sessions.Compacting.ICompactionStore NewCompactions() => new PostgresCompactionRepository(fixture.Database);

    /// <inheritdoc />
    protected override IIdempotencyKeyStore NewKeys() => new PostgresIdempotencyKeys(fixture.Database, Clock);

    private PostgresDatabase SecondReplica() =>
        SecondReplicas.GetOrAdd(fixture.Server.ConnectionString, connectionString => new PostgresDatabase(
            new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = PgliteServer.PoolSize - 1 }.ConnectionString));
}
