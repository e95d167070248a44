using System.Diagnostics;

namespace ContextCompiler.Benchmarks.ScaleOut;

/// <summary>Several <c>contextc serve</c> processes of one run: started together, probed for readiness, measured for CPU.</summary>
internal sealed class Replicas : IAsyncDisposable
{
    private readonly List<ServeProcess> _servers;

    private Replicas(List<ServeProcess> servers) => _servers = servers;

    /// <summary>The replicas, in start order.</summary>
    public IReadOnlyList<ServeProcess> Servers => _servers;

    /// <summary>
    /// The environment of a replica on the PostgreSQL store at <paramref name="connectionString"/>, with its own embedding
    /// cache file <paramref name="cache"/> (a fresh one is cold: every span it embeds runs the model).
    /// </summary>
    public static Dictionary<string, string?> PostgresEnvironment(string connectionString, string cache) => new()
    {
        ["ContextCompiler__Storage__Provider"] = "postgres",
        ["ContextCompiler__Storage__ConnectionString"] = connectionString,
        ["ContextCompiler__EmbeddingCachePath"] = cache,
        // The database is loaded by the benchmark; nothing must be ingested from the repository's corpus at start.
        ["ContextCompiler__IngestOnStart"] = "false",
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = null,
    };

    /// <summary>
    /// Starts <paramref name="count"/> servers at once with the environment <paramref name="environment"/> gives each
    /// (by index) and returns once each listens; <paramref name="database"/> is the <c>--db</c> of each (by index).
    /// </summary>
    public static async Task<Replicas> StartAsync(string root, int count, Func<int, string> database, Func<int, Dictionary<string, string?>> environment)
    {
        var starting = Enumerable.Range(0, count).Select(i => ServeProcess.StartAsync(root, database(i), environment(i))).ToList();
        try
        {
            return new Replicas([.. await Task.WhenAll(starting)]);
        }
        catch
        {
            foreach (var task in starting.Where(t => t.IsCompletedSuccessfully))
            {
                await task.Result.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>Waits until every replica's <c>/health/ready</c> answers 200.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var clock = Stopwatch.StartNew();
        foreach (var server in _servers)
        {
            while (true)
            {
                try
                {
                    using var response = await http.GetAsync(new Uri(server.Address, "/health/ready"));
                    if (response.IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && clock.Elapsed < timeout)
                {
                    // Still starting, or the probe waited behind PGlite's queue.
                }

                if (clock.Elapsed > timeout)
                {
                    throw new TimeoutException($"A replica at {server.Address} was not ready within {timeout}.");
                }

                await Task.Delay(200);
            }
        }
    }

    /// <summary>CPU time all replicas have used so far.</summary>
    public TimeSpan CpuTime() => _servers.Aggregate(TimeSpan.Zero, (sum, s) => sum + s.CpuTime());

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }
}
