using ContextCompiler.Engine.Sessions;
using ContextCompiler.Engine.Sessions.Contract;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Engine.Tests.Sessions;

/// <summary>The session store contract on SQLite: every replica is its own repository over one index file.</summary>
public sealed class SqliteSessionStoreTests : SessionStoreContract
{
    private readonly TempIndex _index = new();

    /// <inheritdoc />
    protected override ISessionRepository NewReplica() => new SessionRepository(_index.Store, new IdempotencyKeys(_index.Store, Clock), Clock);

    /// <inheritdoc />
    protected override Engine.Sessions.Compacting.ICompactionStore NewCompactions() => new CompactionRepository(_index.Store);

    /// <inheritdoc />
    protected override IIdempotencyKeyStore NewKeys() => new IdempotencyKeys(_index.Store, Clock);

    /// <inheritdoc />
    public override void Dispose()
    {
        _index.Dispose();
        base.Dispose();
    }
}
