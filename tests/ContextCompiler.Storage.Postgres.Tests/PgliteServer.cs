using System.Reflection;
using ContextCompiler.Testing.Pglite;

namespace ContextCompiler.Storage.Postgres.Tests;

/// <summary>
/// A PostgreSQL 18 with pgvector and pg_textsearch for the tests: PGlite (PostgreSQL in WebAssembly) served over the
/// wire protocol by pglite-socket, on a free loopback port and a fresh temporary database folder. The npm packages are
/// pinned in <c>pglite/package-lock.json</c> beside this file and installed with <c>npm ci</c> on first use.
/// </summary>
/// <remarks>
/// PGlite runs one query at a time on one backend session that every connection shares: session state (SET, advisory
/// locks, temporary tables) is common to all connections, and while one connection is in a transaction or between the
/// Parse and the Sync of an extended-protocol exchange the others wait (pglite/serve.mjs). Good for correctness, not
/// for throughput.
/// </remarks>
public sealed class PgliteServer : IAsyncLifetime
{
    /// <summary>
    /// Connections the server accepts (pglite-socket's <c>-m</c>; without it, one). More clients than this are refused
    /// with a reset. The tests of one server open several data sources in turn (the shared one, a second "replica" for
    /// the session contract, two for each two-replica test), and a pool keeps its idle connections for minutes, so the
    /// limit leaves room for all of them; PGlite queues their queries on its one session either way.
    /// </summary>
    public const int MaxConnections = 64;

    /// <summary>Npgsql's Maximum Pool Size for one data source on this server.</summary>
    public const int PoolSize = 4;

    private PgliteProcess? _process;

    /// <summary>The Npgsql connection string of the running server.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var node = NodeLocator.Current;
        if (!node.Found && !NodeLocator.MustRun)
        {
            // Every test here is skipped then (PgliteFactAttribute); starting nothing lets the run report the reason.
            return;
        }

        if (!node.Found)
        {
            // Reached only under CI (elsewhere PgliteFactAttribute skips): fail with the reason rather than skip.
            throw new InvalidOperationException(node.Reason);
        }

        _process = await PgliteProcess.StartAsync(node.Node!, node.Npm!, PgliteFolder(), Directory.CreateTempSubdirectory("contextc-pglite-").FullName, MaxConnections);
        var builder = _process.ConnectionString(PoolSize);
        // A query waits its turn behind every other connection's queries and transactions.
        builder.CommandTimeout = 120;
        builder.Timeout = 30;
        ConnectionString = builder.ConnectionString;
    }

    /// <summary>A new data source on this server with pgvector's types, as the store builds it.</summary>
    public PostgresDatabase NewDatabase() => new(ConnectionString);

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
    }

    private static string PgliteFolder() =>
        typeof(PgliteServer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "PgliteFolder").Value!;
}
