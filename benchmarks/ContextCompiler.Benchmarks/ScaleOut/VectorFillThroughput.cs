using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace ContextCompiler.Benchmarks.ScaleOut;

/// <summary>
/// Vector filling with 1 and with 3 <c>contextc serve</c> processes sharing one PostgreSQL database that holds N spans
/// without vectors: each replica's background filler claims batches (leased, <c>FOR UPDATE SKIP LOCKED</c>), embeds them
/// with the real model (all-MiniLM-L6-v2, ONNX) and writes the vectors. Every replica has its own new, empty embedding
/// cache, so every span runs the model. The benchmark counts filled spans in the database every half second.
/// </summary>
internal static class VectorFillThroughput
{
    public static async Task RunAsync(ScaleOutBenchmark.Context context)
    {
        int spans = context.Ints("--fill-spans", "3072")[0];
        var replicaCounts = context.Ints("--replicas", "1,3");
        var rows = new List<string>();
        foreach (int count in replicaCounts)
        {
            Console.Error.WriteLine($"[{Now()}] fill: {count} replica(s), {spans} spans pending");
            await using var pglite = await PgliteServer.StartAsync(context.Root, context.Temp, poolSize: 8);
            var load = await PostgresLoader.LoadAsync(pglite.ConnectionString,
                PostgresLoader.Real(context.Source, context.Corpus, withVectors: false, maxSpans: spans));
            string tag = $"fill-{count}-{Guid.NewGuid():N}"[..16];
            var timeline = new List<(double Seconds, long Done)>();
            var launch = Stopwatch.StartNew();
            var pgliteCpu = pglite.CpuTime();
            await using var replicas = await Replicas.StartAsync(context.Root, count,
                i => Path.Combine(context.Temp, $"{tag}-{i}.db"),
                i => Replicas.PostgresEnvironment(pglite.ConnectionString, Path.Combine(context.Temp, $"{tag}-cache-{i}.db")));
            double listening = launch.Elapsed.TotalSeconds;
            // Unpooled: the probe takes one connection for the run and never leaves one idle in a pool.
            await using (var probe = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(pglite.ConnectionString) { Pooling = false }.ConnectionString))
            {
                await probe.OpenAsync();
                await using var count_ = new NpgsqlCommand("SELECT count(embedding) FROM spans", probe);
                while (true)
                {
                    long done = (long)(await count_.ExecuteScalarAsync())!;
                    timeline.Add((launch.Elapsed.TotalSeconds, done));
                    if (done >= load.Spans)
                    {
                        break;
                    }

                    if (launch.Elapsed > TimeSpan.FromMinutes(20))
                    {
                        throw new TimeoutException($"{done}/{load.Spans} vectors after 20 minutes.");
                    }

                    await Task.Delay(500);
                }
            }

            double pgliteSeconds = (pglite.CpuTime() - pgliteCpu).TotalSeconds;
            double replicaSeconds = replicas.CpuTime().TotalSeconds;
            double total = timeline[^1].Seconds;
            // Vectors are committed 256 spans at a time (VectorIndexer.BatchSize), so the count moves in steps: the
            // steady rate is taken from the first commit seen to the last, and the whole from all replicas listening.
            var (firstSeconds, firstDone) = timeline.First(t => t.Done > 0);
            double steady = (load.Spans - firstDone) / (total - firstSeconds);
            double fromListening = load.Spans / (total - listening);
            rows.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {count} | {load.Spans:N0} | {listening:F1} | {firstSeconds:F1} | {total:F1} | {fromListening:F1} | {steady:F1} | {fromListening / count:F1} | {replicaSeconds:F0} | {load.Spans / replicaSeconds:F1} | {pgliteSeconds:F0} |"));
            Console.Error.WriteLine($"[{Now()}] {rows[^1]}");
        }

        Console.WriteLine($"Vector filling with all-MiniLM-L6-v2 (cold caches), replicas started together on one PGlite database:\n");
        Console.WriteLine("| Replicas | Spans pending | all listening (s) | first commit seen (s) | all filled (s) | spans/s, listening to done | spans/s, first commit to done | per replica (listening to done) | replicas' CPU (s) | spans per replica CPU-second | PGlite CPU (s) |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        rows.ForEach(Console.WriteLine);
        Console.WriteLine();
    }

    private static string Now() => DateTime.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
}
