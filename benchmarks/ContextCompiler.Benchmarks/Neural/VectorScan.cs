using System.Diagnostics;
using System.Globalization;
using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Embedding;
using ContextCompiler.Core.Retrieve;
using ContextCompiler.Engine.Index;
using Microsoft.Extensions.AI;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Benchmarks.Neural;

/// <summary>
/// The vector search alone, the exact float scan against the int8 first pass with exact rescoring, on synthetic copies
/// of a real neural index, with the dev questions embedded by the index's model:
///   dotnet run -c Release --project benchmarks/ContextCompiler.Benchmarks -- vectorscan --db INDEX [--spans 10000,100000] [--limit 100] [--seconds 3] [--stages]
/// Besides latency it reports how far the quantised result agrees with the exact one (it should be identical) and how
/// often the quantised search fell back to the exact scan. With --stages, also the median time of each compile stage
/// (budget 1000, cached query embeddings, the store's own retrieval), to show where the rest of a compile goes.
/// </summary>
internal static class VectorScan
{
    public static async Task<int> RunAsync(string[] args)
    {
        string db = BenchmarkArgs.Option(args, "--db", "") is { Length: > 0 } path ? path : throw new ArgumentException("--db INDEX is required.");
        var sizes = BenchmarkArgs.Option(args, "--spans", "10000,100000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        int limit = int.Parse(BenchmarkArgs.Option(args, "--limit", "100"), CultureInfo.InvariantCulture);
        double seconds = double.Parse(BenchmarkArgs.Option(args, "--seconds", "3"), CultureInfo.InvariantCulture);
        bool stages = args.Contains("--stages");
        using var index = NeuralIndex.Open(db);
        var (assets, model, questions, prefixed, real) = (index.Assets, index.Model, index.Questions, index.Queries, index.Real);
        var queries = new List<float[]>();
        foreach (var q in questions)
        {
            queries.Add((await prefixed.GenerateVectorAsync(q)).ToArray());
        }

        var temp = Directory.CreateTempSubdirectory("contextc-vectorscan-").FullName;
        try
        {
            Console.WriteLine($"Model {model.Id}; {questions.Length} dev questions, top {limit}, {seconds} s per search kind; {Environment.ProcessorCount} cores.\n");
            Console.WriteLine("| Index | Spans | Load (ms) | Managed heap of the copy (MB) | Exact scan p50 / p95 (ms) | Int8 + rescoring p50 / p95 (ms) | Recall@" + limit + " vs exact | Top 10 identical | Whole list identical (ids, order, scores) | Fell back to exact |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            var source = ContextCompiler.Benchmarks.Quick.SyntheticIndex.Source.Read(real);
            var stageRows = new List<string>();
            foreach (int size in sizes)
            {
                var built = ContextCompiler.Benchmarks.Quick.SyntheticIndex.Build(source, Path.Combine(temp, $"synthetic-{size}.db"), assets.Vec0Path, model, size);
                var snapshots = Row($"synthetic {size / 1000}k", built.Store);
                if (stages)
                {
                    stageRows.Add(await Stages($"synthetic {size / 1000}k", built.Store, snapshots));
                }

                built.Store.Dispose();
            }

            if (stages)
            {
                Console.WriteLine("\n| Index | Compile stages, cached query, budget 1000 (median ms) |\n|---|---|");
                stageRows.ForEach(Console.WriteLine);
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(temp, recursive: true);
        }

        return 0;

        async Task<string> Stages(string name, IndexStore store, IndexSnapshotCache snapshots)
        {
            var compiler = CompilerFactory.Create(store, new MemoryEmbeddingCache(prefixed), assets, snapshots);
            foreach (var q in questions)
            {
                await compiler.CompileAsync(new CompileRequest(q, 1000)); // fills the query cache
            }

            var byStage = new Dictionary<string, List<double>>(StringComparer.Ordinal);
            for (int round = 0; round < 5; round++)
            {
                foreach (var q in questions)
                {
                    var set = await compiler.CompileAsync(new CompileRequest(q, 1000, Explain: true));
                    foreach (var timing in set.Explain?.Timings ?? [])
                    {
                        (byStage.TryGetValue(timing.Stage, out var times) ? times : byStage[timing.Stage] = []).Add(timing.Milliseconds);
                    }
                }
            }

            return string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {string.Join(", ", byStage.Select(s => $"{s.Key} {BenchmarkArgs.Percentile(s.Value, 50):F2}"))} |");
        }

        IndexSnapshotCache Row(string name, IndexStore store)
        {
            long heap = GC.GetTotalMemory(forceFullCollection: true);
            var snapshots = new IndexSnapshotCache(store);
            var clock = Stopwatch.StartNew();
            int spans = snapshots.Current().Keys.Length;
            double load = clock.Elapsed.TotalMilliseconds;
            double copyMb = (GC.GetTotalMemory(forceFullCollection: true) - heap) / 1e6;
            var exact = new InMemoryVectorIndex(snapshots, quantizedFromRows: int.MaxValue);
            var quantised = new InMemoryVectorIndex(snapshots, quantizedFromRows: 0);
            var all = new RetrievalFilter();

            double recall = 0;
            int sameTop10 = 0, sameAll = 0;
            foreach (var q in queries)
            {
                var e = exact.Search(q, all, limit);
                var a = quantised.Search(q, all, limit);
                recall += e.Count == 0 ? 1 : (double)a.Select(h => h.Key.Id).Intersect(e.Select(h => h.Key.Id)).Count() / e.Count;
                sameTop10 += e.Take(10).Select(h => h.Key.Id).SequenceEqual(a.Take(10).Select(h => h.Key.Id)) ? 1 : 0;
                sameAll += e.SequenceEqual(a) ? 1 : 0;
            }

            long fallbacks = quantised.ExactFallbacks;
            var exactTimes = Time(exact);
            var quantisedTimes = Time(quantised);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {spans:N0} | {load:F0} | {copyMb:F1} | {BenchmarkArgs.Percentile(exactTimes, 50):F2} / {BenchmarkArgs.Percentile(exactTimes, 95):F2} | {BenchmarkArgs.Percentile(quantisedTimes, 50):F2} / {BenchmarkArgs.Percentile(quantisedTimes, 95):F2} | {recall / queries.Count:F4} | {sameTop10}/{queries.Count} | {sameAll}/{queries.Count} | {fallbacks}/{queries.Count} first pass, {quantised.ExactFallbacks - fallbacks} timed |"));
            return snapshots;

            List<double> Time(InMemoryVectorIndex index)
            {
                var times = new List<double>();
                var run = Stopwatch.StartNew();
                while (run.Elapsed.TotalSeconds < seconds)
                {
                    foreach (var q in queries)
                    {
                        long t = Stopwatch.GetTimestamp();
                        index.Search(q, all, limit);
                        times.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                    }
                }

                return times;
            }
        }
    }
}
