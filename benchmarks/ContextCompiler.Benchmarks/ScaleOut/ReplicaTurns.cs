using System.Globalization;

namespace ContextCompiler.Benchmarks.ScaleOut;

/// <summary>
/// Turns per second with 1 and 3 <c>contextc serve</c> processes on one PostgreSQL database holding the default corpus
/// (9,181 spans with their vectors), and 1 on a SQLite copy of the same index as the reference, in one run. Clients
/// behave as in the <c>turns</c> benchmark (each session: a turn, then the assistant's reply, again and again; the session
/// and a counter make every message new, so each turn embeds its query cold), and every request goes to the next
/// replica in turn.
/// </summary>
internal static class ReplicaTurns
{
    public static async Task RunAsync(ScaleOutBenchmark.Context context)
    {
        var replicaCounts = context.Ints("--replicas", "1,3");
        var sessionCounts = context.Ints("--sessions", "1,8");
        double seconds = context.Number("--turn-seconds", "20");
        var rows = new List<string>();

        // The reference: one replica on a SQLite copy of the source index (a copy, because the server writes sessions).
        string sqliteCopy = Path.Combine(context.Temp, "turns-sqlite.db");
        File.Copy(context.Database, sqliteCopy);
        Console.Error.WriteLine($"[{Now()}] turns: SQLite, 1 replica");
        await using (var replicas = await Replicas.StartAsync(context.Root, 1, _ => sqliteCopy, _ => new Dictionary<string, string?>
        {
            ["ContextCompiler__EmbeddingCachePath"] = Path.Combine(context.Temp, "turns-sqlite-cache.db"),
            ["ContextCompiler__IngestOnStart"] = "false",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = null,
        }))
        {
            await replicas.WaitReadyAsync(TimeSpan.FromMinutes(5));
            rows.AddRange(await Load(context, "SQLite", replicas, sessionCounts, seconds, null));
        }

        Console.Error.WriteLine($"[{Now()}] turns: PGlite load");
        await using var pglite = await PgliteServer.StartAsync(context.Root, context.Temp, poolSize: 8);
        await PostgresLoader.LoadAsync(pglite.ConnectionString, PostgresLoader.Real(context.Source, context.Corpus, withVectors: true));
        foreach (int count in replicaCounts)
        {
            Console.Error.WriteLine($"[{Now()}] turns: PostgreSQL, {count} replica(s)");
            string tag = $"turns-{count}-{Guid.NewGuid():N}"[..17];
            await using var replicas = await Replicas.StartAsync(context.Root, count,
                i => Path.Combine(context.Temp, $"{tag}-{i}.db"),
                i => Replicas.PostgresEnvironment(pglite.ConnectionString, Path.Combine(context.Temp, $"{tag}-cache-{i}.db")));
            await replicas.WaitReadyAsync(TimeSpan.FromMinutes(5));
            rows.AddRange(await Load(context, "PostgreSQL (PGlite)", replicas, sessionCounts, seconds, pglite));
        }

        Console.WriteLine($"Turns over loopback HTTP, {seconds:F0} s per row, requests round-robin over the replicas (totalBudget 2000, no Idempotency-Key):\n");
        Console.WriteLine("| Store | Replicas | Concurrent sessions | Turns | Seconds | Turns/s | Turns/s per replica | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | Errors | replicas' CPU (s) | PGlite CPU (s) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        rows.ForEach(Console.WriteLine);
        Console.WriteLine();
    }

    private static async Task<List<string>> Load(ScaleOutBenchmark.Context context, string store, Replicas replicas, int[] sessionCounts, double seconds, PgliteServer? pglite)
    {
        var clients = replicas.Servers.Select(s => new HttpClient { BaseAddress = s.Address, Timeout = TimeSpan.FromMinutes(2) }).ToArray();
        try
        {
            await Drive(clients, context.DevQuestions, 2, 3); // warm-up: JIT, the model, connection pools
            var rows = new List<string>();
            foreach (int n in sessionCounts)
            {
                var cpu = replicas.CpuTime();
                var pgCpu = pglite?.CpuTime() ?? TimeSpan.Zero;
                var (turns, elapsed, latencies, errors) = await Drive(clients, context.DevQuestions, n, seconds);
                double replicaCpu = (replicas.CpuTime() - cpu).TotalSeconds;
                string pgliteCpu = pglite is null ? "–" : (pglite.CpuTime() - pgCpu).TotalSeconds.ToString("F0", CultureInfo.InvariantCulture);
                rows.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {store} | {clients.Length} | {n} | {turns:N0} | {elapsed:F1} | {turns / elapsed:F1} | {turns / elapsed / clients.Length:F1} | {BenchmarkArgs.Percentile(latencies, 50):F2} | {BenchmarkArgs.Percentile(latencies, 95):F2} | {BenchmarkArgs.Percentile(latencies, 99):F2} | {latencies.Max():F2} | {errors} | {replicaCpu:F0} | {pgliteCpu} |"));
                Console.Error.WriteLine($"[{Now()}] {rows[^1]}");
            }

            return rows;
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    // TurnLoad's driver, with each request sent to the next replica in turn (the sessions live in the shared database, so
    // any replica can serve any of them). Session and counter make every message new across sessions too (TurnLoad's
    // "(turn k)" alone repeats across sessions, whose queries then hit the in-memory query cache of a single replica far
    // more often than they can spread over three), so each turn runs the model for its query and its conversation.
    private static Task<(int Turns, double Seconds, List<double> Latencies, int Errors)> Drive(HttpClient[] clients, string[] questions, int sessions, double seconds) =>
        ContextCompiler.Benchmarks.Load.TurnLoad.Drive(clients, questions, sessions, seconds, keys: false, (question, session, turn) => $"{question} (session {session}, turn {turn})");

    private static string Now() => DateTime.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
}
