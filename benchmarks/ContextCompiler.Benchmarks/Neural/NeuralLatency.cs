using System.Diagnostics;
using System.Globalization;
using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Embedding;
using ContextCompiler.Engine.Index;
using Microsoft.Extensions.AI;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Benchmarks.Neural;

/// <summary>
/// Compile latency with a neural query embedder, on a real neural index and synthetic copies of it:
///   dotnet run -c Release --project benchmarks/ContextCompiler.Benchmarks -- neural --db INDEX [--spans 10000,100000] [--seconds 10]
/// INDEX is a database built with a packaged model (for example <c>contextc ingest corpora/sqlite-docs --db INDEX</c>).
/// Each query is measured three ways: the query embedding alone, a compile with a cold query (never seen before: the
/// model runs), and a compile whose query embedding comes from the in-memory cache. One request at a time.
/// </summary>
internal static class NeuralLatency
{
    public static async Task<int> RunAsync(string[] args)
    {
        string db = BenchmarkArgs.Option(args, "--db", "") is { Length: > 0 } path ? path : throw new ArgumentException("--db INDEX is required.");
        var sizes = BenchmarkArgs.Option(args, "--spans", "10000,100000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        double seconds = double.Parse(BenchmarkArgs.Option(args, "--seconds", "10"), CultureInfo.InvariantCulture);
        using var index = NeuralIndex.Open(db);
        var (assets, model, questions, prefixed, real) = (index.Assets, index.Model, index.Questions, index.Queries, index.Real);
        var temp = Directory.CreateTempSubdirectory("contextc-neural-").FullName;
        try
        {
            Console.WriteLine($"Model {model.Id}; ONNX intra-op threads 1, one request at a time; {questions.Length} dev questions, {seconds} s per row.\n");
            Console.WriteLine("| Index | Spans | Query embedding alone p50 / p95 (ms) | Compile, cold query p50 / p95 (ms) | Compile, cached query p50 / p95 (ms) |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            await Row("sqlite-docs (real)", real);
            var source = ContextCompiler.Benchmarks.Quick.SyntheticIndex.Source.Read(real);
            foreach (int size in sizes)
            {
                var built = ContextCompiler.Benchmarks.Quick.SyntheticIndex.Build(source, Path.Combine(temp, $"synthetic-{size}.db"), assets.Vec0Path, model, size);
                await Row($"synthetic {size / 1000}k", built.Store);
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(temp, recursive: true);
        }

        return 0;

        async Task Row(string name, IndexStore store)
        {
            var cold = CompilerFactory.Create(store, prefixed, assets);
            var cache = new MemoryEmbeddingCache(prefixed);
            var warm = CompilerFactory.Create(store, cache, assets);
            foreach (var q in questions)
            {
                await warm.CompileAsync(new CompileRequest(q, 1000)); // fills the cache and the snapshot
            }

            var embed = new List<double>();
            var coldTimes = new List<double>();
            var warmTimes = new List<double>();
            int round = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                foreach (var q in questions)
                {
                    // A suffix the cache has never seen makes the query cold, with the same length and wording.
                    string fresh = $"{q} ({round})";
                    var t = Stopwatch.GetTimestamp();
                    await prefixed.GenerateVectorAsync(fresh);
                    embed.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                    t = Stopwatch.GetTimestamp();
                    await cold.CompileAsync(new CompileRequest(fresh + " ", 1000));
                    coldTimes.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                    t = Stopwatch.GetTimestamp();
                    await warm.CompileAsync(new CompileRequest(q, 1000));
                    warmTimes.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                }

                round++;
            }

            int spans = (int)new VectorIndexer(store, prefixed).Status().Total;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {spans:N0} | {BenchmarkArgs.Percentile(embed, 50):F2} / {BenchmarkArgs.Percentile(embed, 95):F2} | {BenchmarkArgs.Percentile(coldTimes, 50):F2} / {BenchmarkArgs.Percentile(coldTimes, 95):F2} | {BenchmarkArgs.Percentile(warmTimes, 50):F2} / {BenchmarkArgs.Percentile(warmTimes, 95):F2} |"));
        }
    }
}
