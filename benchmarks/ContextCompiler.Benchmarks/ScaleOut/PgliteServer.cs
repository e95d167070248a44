using ContextCompiler.Testing.Pglite;

namespace ContextCompiler.Benchmarks.ScaleOut;

/// <summary>
/// A PostgreSQL for the scale-out benchmark: the PostgreSQL store tests' PGlite server (<see cref="PgliteProcess"/>,
/// their <c>pglite</c> folder and its pinned packages), on a fresh data folder, with the benchmark's pool size and
/// timeouts.
/// </summary>
/// <remarks>
/// PGlite runs one query at a time on one backend session that every connection shares, so what is measured here is a
/// floor: a real PostgreSQL gives each connection its own backend process.
/// </remarks>
internal sealed class PgliteServer : IAsyncDisposable
{
    /// <summary>Connections the server accepts: room for three replicas' pools, the benchmark's own and the probes.</summary>
    public const int MaxConnections = 64;

    private readonly PgliteProcess _process;

    private PgliteServer(PgliteProcess process, int poolSize)
    {
        _process = process;
        var builder = process.ConnectionString(poolSize);
        // Queries queue behind every other connection's on PGlite's one session; index builds take minutes.
        builder.CommandTimeout = 1800;
        builder.Timeout = 60;
        ConnectionString = builder.ConnectionString;
    }

    /// <summary>The Npgsql connection string of the running server, with the given pool size.</summary>
    public string ConnectionString { get; }

    /// <summary>The node process's resident memory in MB (WASM heap included).</summary>
    public double ResidentMegabytes() => _process.ResidentMegabytes();

    /// <summary>CPU time the node process (PGlite's one backend and the socket server) has used so far.</summary>
    public TimeSpan CpuTime() => _process.CpuTime();

    /// <summary>Starts PGlite on a new data folder under <paramref name="temp"/> and returns once it answers a query.</summary>
    public static async Task<PgliteServer> StartAsync(string root, string temp, int poolSize)
    {
        string folder = Path.Combine(root, "tests", "ContextCompiler.Storage.Postgres.Tests", "pglite");
        string data = Path.Combine(temp, "pgdata-" + Guid.NewGuid().ToString("N")[..8]);
        return new PgliteServer(await PgliteProcess.StartAsync("node", "npm", folder, data, MaxConnections), poolSize);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
