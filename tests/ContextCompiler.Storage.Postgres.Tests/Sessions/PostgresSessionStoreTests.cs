using ContextCompiler.Storage.Sessions;
using ContextCompiler.Storage.Sessions.Contract;

namespace ContextCompiler.Storage.Postgres.Tests.Sessions;

/// <summary>
/// The session store contract on PostgreSQL (PGlite). Replicas alternate between the shared data source and one of this
/// test's own, so concurrent writers also come through two separate pools, as two processes' would.
/// </summary>
[Collection(MigratedCollection.Name)]
public sealed class PostgresSessionStoreTests(MigratedDatabase fixture) : SessionStoreContract
{
    private readonly Lazy<PostgresDatabase> _second = new(fixture.Server.NewDatabase);
    private int _replicas;

    /// <inheritdoc />
    protected override ISessionRepository NewReplica() =>
        new PostgresSessionRepository(Interlocked.Increment(ref _replicas) % 2 == 0 ? _second.Value : fixture.Database, Clock);

    /// <inheritdoc />
    protected override IIdempotencyKeyStore NewKeys() => new PostgresIdempotencyKeys(fixture.Database, Clock);

    /// <inheritdoc />
    public override void Dispose()
    {
        if (_second.IsValueCreated)
        {
            _second.Value.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        base.Dispose();
    }
}
