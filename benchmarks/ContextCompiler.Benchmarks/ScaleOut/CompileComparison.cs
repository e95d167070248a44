using System.Diagnostics;
using System.Globalization;
using ContextCompiler.Benchmarks.Quick;
using ContextCompiler.Core.Compile;
using Microsoft.Extensions.AI;
using Npgsql;
using Pgvector;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Benchmarks.ScaleOut;

/// <summary>
/// Compile latency on the SQLite store and on the PostgreSQL store holding the same synthetic spans, measured one after
/// the other in one process with the same queries, budget and query embedder; and, on the largest PostgreSQL index,
/// HNSW recall against an exact scan at several <c>hnsw.ef_search</c> values.
/// </summary>
internal static class CompileComparison
{
    public static async Task RunAsync(ScaleOutBenchmark.Context context, bool compile, bool hnsw)
    {
        var sizes = context.Ints("--spans", "10000,100000");
        int hnswSpans = context.Ints("--hnsw-spans", sizes.Max().ToString(CultureInfo.InvariantCulture))[0];
        var budgets = context.Ints("--budget", "1000");
        double seconds = context.Number("--seconds", "10");
        double jitter = context.Number("--jitter", "0");
        if (compile && jitter > 0)
        {
            throw new ArgumentException("--jitter applies to the PostgreSQL spans only, so it is for --phases hnsw alone: the compile comparison needs the same spans in both stores.");
        }

        var rows = new List<string>();
        var stages = new List<string>();
        var loads = new List<string>();
        var recall = new List<string>();
        foreach (int size in sizes)
        {
            if (!compile && size != hnswSpans)
            {
                continue;
            }

            WorkingSetCompiler? sqlite = null;
            if (compile)
            {
                Console.Error.WriteLine($"[{Now()}] SQLite synthetic {size}");
                var built = SyntheticIndex.Build(context.Source, Path.Combine(context.Temp, $"synthetic-{size}.db"), context.Assets.Vec0Path, context.Model, size);
                sqlite = CompilerFactory.Create(built.Store, context.Queries, context.Assets);
            }

            Console.Error.WriteLine($"[{Now()}] PGlite synthetic {size}: load");
            await using var pglite = await PgliteServer.StartAsync(context.Root, context.Temp, poolSize: 8);
            var load = await PostgresLoader.LoadAsync(pglite.ConnectionString, PostgresLoader.Synthetic(context.Source, size, jitter));
            loads.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {load.Spans:N0} | {load.Documents:N0} | {load.Insert.TotalSeconds:F1} | {load.HnswBuild.TotalSeconds:F1} | {load.HnswBytes / 1048576.0:F1} | {load.Bm25Build.TotalSeconds:F1} | {load.Bm25Bytes / 1048576.0:F1} | {load.TableBytes / 1048576.0:F1} | {pglite.ResidentMegabytes():F0} |"));
            Console.Error.WriteLine($"[{Now()}] loaded: {loads[^1]}");

            var (services, store) = ScaleOutBenchmark.OpenPostgres(context, pglite.ConnectionString);
            await using (services)
            {
                if (compile)
                {
                    var postgres = store.Retrieval.Compiler(context.Queries, context.Assets);
                    foreach (int budget in budgets)
                    {
                        // SQLite first, then PostgreSQL, each with its own warm-up; the query vectors come from the shared
                        // in-memory cache after the first pass, so both compile the same vectors and neither runs the model.
                        rows.Add(await Measure($"SQLite (in-process snapshot)", sqlite!, size, budget, context.DevQuestions, seconds));
                        stages.Add(await Stages($"SQLite (in-process snapshot)", sqlite!, size, budget, context.DevQuestions));
                        Console.Error.WriteLine($"[{Now()}] {rows[^1]}\n{stages[^1]}");
                        rows.Add(await Measure($"PostgreSQL (PGlite)", postgres, size, budget, context.DevQuestions, seconds));
                        stages.Add(await Stages($"PostgreSQL (PGlite)", postgres, size, budget, context.DevQuestions));
                        Console.Error.WriteLine($"[{Now()}] {rows[^1]}\n{stages[^1]}");
                    }
                }

                if (hnsw && size == hnswSpans)
                {
                    recall.AddRange(await Recall(context, pglite.ConnectionString, size));
                }
            }
        }

        if (loads.Count > 0)
        {
            Console.WriteLine($"PostgreSQL load (multi-row INSERTs of 500 rows into the migrated schema, then the two search indexes built; maintenance_work_mem {PostgresLoader.MaintenanceWorkMem}):\n");
            Console.WriteLine("| Spans | Documents | INSERTs (s) | HNSW build (s) | HNSW size (MB) | BM25 build (s) | BM25 size (MB) | spans table (MB) | PGlite RSS after (MB) |");
            Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            loads.ForEach(Console.WriteLine);
            Console.WriteLine();
        }

        if (rows.Count > 0)
        {
            Console.WriteLine($"Compile latency, one request at a time, {context.DevQuestions.Length} dev questions, cached query vectors, default compiler options:\n");
            Console.WriteLine("| Store | Spans | Budget | p50 (ms) | p95 (ms) | mean (ms) | max (ms) | first call (ms) | tokens/set | citations/set | samples |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            rows.ForEach(Console.WriteLine);
            Console.WriteLine();
        }

        if (stages.Count > 0)
        {
            Console.WriteLine("Where a compile's time goes: median per stage over one more pass with Explain on (the compiler's own timings, ms):\n");
            Console.WriteLine("| Store | Spans | Budget | stage medians (ms) |");
            Console.WriteLine("|---|---:|---:|---|");
            stages.ForEach(Console.WriteLine);
            Console.WriteLine();
        }

        if (recall.Count > 0)
        {
            Console.WriteLine(jitter > 0 ? $"Vectors of copies after the first moved by Gaussian noise, sigma {jitter} per dimension, then normalised (no two spans share a vector).\n" : "Vectors copied exactly (each real span's vector 10 or 11 times).\n");
            Console.WriteLine($"HNSW recall@100 against an exact scan (sequential scan, index scans off) at {hnswSpans:N0} spans:\n");
            Console.WriteLine("| hnsw.ef_search | hnsw.iterative_scan | recall@100 (by distance) | recall@100 (by id) | min (by distance) | rows returned (mean) | HNSW query p50 (ms) | p95 (ms) | queries |");
            Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
            recall.ForEach(Console.WriteLine);
            Console.WriteLine();
        }
    }

    private static async Task<string> Measure(string name, WorkingSetCompiler compiler, int size, int budget, string[] questions, double seconds)
    {
        var first = Stopwatch.StartNew();
        await compiler.CompileAsync(new CompileRequest(questions[0], budget));
        double firstMs = first.Elapsed.TotalMilliseconds;
        // Warm-up: a whole pass (fills the query cache, JIT, connection pool, the snapshot or PostgreSQL's buffers).
        foreach (var q in questions)
        {
            await compiler.CompileAsync(new CompileRequest(q, budget));
        }

        var samples = new Samples();
        long tokens = 0, citations = 0;
        var clock = Stopwatch.StartNew();
        int passes = 0;
        while (passes < 2 || clock.Elapsed.TotalSeconds < seconds)
        {
            foreach (var q in questions)
            {
                long start = Stopwatch.GetTimestamp();
                var set = await compiler.CompileAsync(new CompileRequest(q, budget));
                samples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                tokens += set.TokenCount;
                citations += set.Citations.Count;
            }

            passes++;
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {size:N0} | {budget:N0} | {samples.Median:F2} | {samples.Percentile(95):F2} | {samples.Mean:F2} | {samples.Max:F2} | {firstMs:F1} | {(double)tokens / samples.Count:F1} | {(double)citations / samples.Count:F2} | {samples.Count:N0} |");
    }

    private static async Task<string> Stages(string name, WorkingSetCompiler compiler, int size, int budget, string[] questions)
    {
        var byStage = new Dictionary<string, Samples>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var q in questions)
        {
            var set = await compiler.CompileAsync(new CompileRequest(q, budget, Explain: true));
            foreach (var timing in set.Explain?.Timings ?? [])
            {
                if (!byStage.TryGetValue(timing.Stage, out var samples))
                {
                    byStage[timing.Stage] = samples = new Samples();
                    order.Add(timing.Stage);
                }

                samples.Add(timing.Milliseconds);
            }
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {size:N0} | {budget:N0} | {string.Join(", ", order.Select(s => $"{s} {byStage[s].Median:F2}"))} |");
    }

    // The vector retriever's own query shape (PostgresVectorRetriever without a corpus filter), k = 100.
    private const string Nearest = "SELECT id, embedding <=> $1 AS distance FROM spans WHERE embedding IS NOT NULL ORDER BY embedding <=> $1 LIMIT 100";

    private static async Task<List<string>> Recall(ScaleOutBenchmark.Context context, string connectionString, int size)
    {
        var efs = context.Ints("--ef", "40,100,200,400");
        // 80 queries: the 30 dev and 50 test questions, embedded as the service embeds a query (model prefix included).
        var questions = context.DevQuestions.Concat(QuestionSets.Read(context.Root, "sqlite-docs.test.jsonl")).ToArray();
        var vectors = new List<Vector>();
        foreach (var q in questions)
        {
            vectors.Add(new Vector((await context.Queries.GenerateVectorAsync(q)).ToArray()));
        }

        // The store's own data source (pgvector's types mapped).
        await using var database = new ContextCompiler.Storage.Postgres.PostgresDatabase(connectionString);
        await using var connection = await database.DataSource.OpenConnectionAsync();
        Console.Error.WriteLine($"[{Now()}] exact plan:\n{await Plan(connection, "SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off", vectors[0])}");
        Console.Error.WriteLine($"[{Now()}] HNSW plan:\n{await Plan(connection, "SET LOCAL hnsw.ef_search = 100; SET LOCAL enable_seqscan = off", vectors[0])}");

        Console.Error.WriteLine($"[{Now()}] store's vector query with a corpus filter (ef_search 100, strict_order):\n{await Plan(connection, "SET LOCAL hnsw.ef_search = 100; SET LOCAL hnsw.iterative_scan = strict_order", vectors[0], FilteredNearest)}");
        var exact = new List<List<(long Id, double Distance)>>();
        var exactTimes = new Samples();
        foreach (var v in vectors)
        {
            long start = Stopwatch.GetTimestamp();
            exact.Add(await Query(connection, "SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off", v));
            exactTimes.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{Now()}] exact scans: p50 {exactTimes.Median:F1} ms, p95 {exactTimes.Percentile(95):F1} ms"));
        var rows = new List<string>();
        foreach (string iterative in (string[])["strict_order", "off"])
        {
            foreach (int ef in efs)
            {
                var byDistance = new Samples();
                var byId = new Samples();
                var times = new Samples();
                long returned = 0;
                for (int i = 0; i < vectors.Count; i++)
                {
                    long start = Stopwatch.GetTimestamp();
                    var found = await Query(connection, $"SET LOCAL hnsw.ef_search = {ef}; SET LOCAL hnsw.iterative_scan = {iterative}; SET LOCAL enable_seqscan = off", vectors[i]);
                    times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    returned += found.Count;
                    // The synthetic index holds each real span 10 or 11 times with the same vector, so the exact top 100
                    // ends in ties; a hit at most as far as the exact 100th counts, whichever copy it is.
                    double bound = exact[i][^1].Distance + 1e-6;
                    var ids = exact[i].Select(e => e.Id).ToHashSet();
                    byDistance.Add(found.Count(f => f.Distance <= bound) / 100.0);
                    byId.Add(found.Count(f => ids.Contains(f.Id)) / 100.0);
                }

                rows.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {ef} | {iterative} | {byDistance.Mean:F4} | {byId.Mean:F4} | {byDistance.Min:F2} | {(double)returned / vectors.Count:F1} | {times.Median:F2} | {times.Percentile(95):F2} | {vectors.Count} |"));
                Console.Error.WriteLine($"[{Now()}] {rows[^1]}");
            }
        }

        rows.Add(string.Create(CultureInfo.InvariantCulture,
            $"| exact (seq scan) | – | 1 | 1 | 1 | 100.0 | {exactTimes.Median:F2} | {exactTimes.Percentile(95):F2} | {vectors.Count} |"));
        return rows;
    }

    // The settings apply to this transaction only (SET LOCAL), as the store's own vector retriever applies them.
    private static async Task<List<(long Id, double Distance)>> Query(NpgsqlConnection connection, string settings, Vector vector)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var set = new NpgsqlCommand(settings, connection, transaction))
        {
            await set.ExecuteNonQueryAsync();
        }

        var hits = new List<(long, double)>();
        await using (var command = new NpgsqlCommand(Nearest, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = vector });
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                hits.Add((reader.GetInt64(0), reader.GetDouble(1)));
            }
        }

        await transaction.CommitAsync();
        return hits;
    }

    // PostgresVectorRetriever's query as a tenant's request sends it (its readable corpora as a filter), k = 40.
    private const string FilteredNearest = """
        SELECT s.id, s.embedding <=> $1 AS distance FROM spans s
        WHERE s.embedding IS NOT NULL AND (s.tenant, s.corpus) IN (SELECT t, c FROM unnest(ARRAY['']::text[], ARRAY['synthetic']::text[]) AS r(t, c))
        ORDER BY s.embedding <=> $1 LIMIT 40
        """;

    private static async Task<string> Plan(NpgsqlConnection connection, string settings, Vector vector, string sql = Nearest)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var set = new NpgsqlCommand(settings, connection, transaction))
        {
            await set.ExecuteNonQueryAsync();
        }

        var lines = new List<string>();
        await using (var command = new NpgsqlCommand("EXPLAIN " + sql, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = vector });
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                // Without the query vector's literal, which would fill the screen.
                string line = reader.GetString(0);
                lines.Add(line.Length > 160 ? line[..160] + "…" : line);
            }
        }

        await transaction.RollbackAsync();
        return string.Join('\n', lines);
    }

    private static string Now() => DateTime.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
}
