using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using ContextCompiler.Benchmarks.Quick;
using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Embedding;
using ContextCompiler.Core.Retrieve;
using ContextCompiler.Core.Tokenization;
using ContextCompiler.Engine.Assets;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Ingest;
using Microsoft.Data.Sqlite;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Benchmarks;

/// <summary>
/// <c>quick</c>: Stopwatch measurements of the whole pipeline in a few minutes, printed as Markdown on stdout
/// (progress goes to stderr). Everything is built in a temporary folder that is deleted at the end.
/// <list type="number">
/// <item>Ingest of the corpus into a fresh index (MB/s, spans/s) and an unchanged re-ingest.</item>
/// <item>Token counting throughput, single thread.</item>
/// <item>Embedding throughput over every span's embedder input.</item>
/// <item>Raw query floors (vec0 KNN, FTS5 BM25, managed in-memory scan) on synthetic indexes of 10k and N spans.</item>
/// <item>Warm compile latency, one request at a time, on the real index and on the synthetic ones.</item>
/// </list>
/// </summary>
internal static class QuickMeasurements
{
    private const string Usage = """
        usage: quick [--spans N] [--ingest-runs N] [--min-seconds S] [--max-seconds S] [--corpus DIR] [--questions FILE] [--keep]
          --spans N         size of the largest synthetic index (default 100000; 10000 is always measured too when N > 10000)
          --ingest-runs N   timed fresh ingests and unchanged re-ingests, after one warm-up ingest (default 3)
          --min-seconds S   each latency figure measures whole passes over the questions for at least S seconds (default 3)
          --max-seconds S   … and stops after the pass that crosses S seconds (default 12)
          --corpus DIR      corpus to ingest (default corpora/sqlite-docs under the repository)
          --questions FILE  JSON lines with a "query" field (default benchmarks/questions/sqlite-docs.dev.jsonl)
          --keep            keep the temporary folder and print its path
        """;

    private const int K = 40;
    private const int SmallSyntheticSpans = 10_000;
    private const double GoalP50Milliseconds = 15;

    private sealed record Settings(
        int Spans, int IngestRuns, LatencySettings Latency, string Corpus, string Questions, bool Keep);

    public static int Run(string[] args)
    {
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        if (args.Any(a => a is "-h" or "--help"))
        {
            Console.Out.WriteLine(Usage);
            return 0;
        }

        Settings settings;
        try
        {
            settings = Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"quick: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var temp = Path.Combine(Path.GetTempPath(), $"contextc-quick-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(temp);
        try
        {
            Measure(settings, temp);
            return 0;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Sampler.Settle();
            if (settings.Keep)
            {
                Console.Error.WriteLine($"quick: kept {temp}");
            }
            else
            {
                try
                {
                    Directory.Delete(temp, recursive: true);
                }
                catch (IOException e)
                {
                    Console.Error.WriteLine($"quick: could not delete {temp}: {e.Message}");
                }
            }
        }
    }

    private static void Measure(Settings settings, string temp)
    {
        var total = Stopwatch.StartNew();
        var questions = ReadQuestions(settings.Questions);
        Print($"# Quick measurements\n\n{MachineDescription()}- Corpus: `{settings.Corpus}`; questions: `{settings.Questions}` ({questions.Count} queries)\n" +
              $"- Latency loops: warm-up (≥ 2 passes, ≥ {settings.Latency.WarmupSeconds} s), then whole passes over the queries for ≥ {settings.Latency.MinRounds} passes " +
              $"and ≥ {settings.Latency.MinSeconds} s (stopping after {settings.Latency.MaxSeconds} s); one request at a time on one thread.\n");

        // Assets (cold): loaded once per process; everything after this is warm.
        var clock = Stopwatch.StartNew();
        var assets = OfflineAssets.Default;
        var tokenizer = assets.Tokenizer("o200k_base");
        var tokenizerLoad = clock.Elapsed;
        clock.Restart();
        var embedder = assets.Embedder;
        var embedderLoad = clock.Elapsed;
        var model = new EmbeddingModel(GloveSifEmbedder.ModelId, embedder.Dimensions);
        Print(new MarkdownTable("Asset load (cold, once per process)", "ms")
            .Row("o200k_base tokenizer", tokenizerLoad.TotalMilliseconds)
            .Row($"GloVe-SIF embedder ({embedder.Dimensions}d)", embedderLoad.TotalMilliseconds)
            .ToString());

        var realStore = MeasureIngest(settings, temp, assets, tokenizer, embedder, model);
        MeasureTokenizer(settings, tokenizer);
        MeasureEmbedder(realStore, embedder);

        var queryVectors = questions.Select(q => embedder.Embed(q)).ToArray();
        var matchExpressions = questions.Select(q => Fts5LexicalRetriever.MatchExpression(QueryTerms.Of(q))).ToArray();
        var floors = new MarkdownTable("Index", "Spans", "Query (k = 40)", "p50 (ms)", "p95 (ms)", "mean (ms)", "max (ms)", "rows/query", "samples");
        var compiles = new MarkdownTable("Index", "Spans", "Budget (tokens)", "p50 (ms)", "p95 (ms)", "mean (ms)", "max (ms)", "first call (ms)", "tokens/set", "citations/set", "samples");
        var stages = new List<(string Index, Dictionary<string, Samples> Stages)>();
        var goal = new List<(int Budget, double P50)>();

        int realSpans = SpanCount(realStore);
        Progress("compile latency on the real index");
        foreach (int budget in new[] { 1000, 4000 })
        {
            CompileLatency(compiles, "sqlite-docs (real)", realSpans, realStore, assets, questions, budget, settings.Latency);
        }

        stages.Add(("sqlite-docs (real)", StageBreakdown(realStore, assets, questions, 1000)));

        var source = SyntheticIndex.Source.Read(realStore);
        var sizes = settings.Spans > SmallSyntheticSpans ? new[] { SmallSyntheticSpans, settings.Spans } : new[] { settings.Spans };
        var builds = new MarkdownTable("Synthetic index", "Spans", "Artifacts", "Copies of the corpus", "Build (s)", "File (MB)", "In-memory copy load: vectors + BM25 (ms)");
        var matches = new MarkdownTable("Index", "Spans", "FTS5 matching rows/query (median)", "(mean)", "(max)", "share of spans (median)");
        AddMatches(matches, "sqlite-docs (real)", realSpans, realStore, matchExpressions);
        foreach (int size in sizes)
        {
            Progress($"building a synthetic index of {size} spans");
            var built = SyntheticIndex.Build(source, Path.Combine(temp, $"synthetic-{size}.db"), assets.Vec0Path, model, size);
            string name = $"synthetic {size / 1000}k";
            var snapshots = new IndexSnapshotCache(built.Store);
            var memory = new InMemoryVectorIndex(snapshots);
            var bm25 = new InMemoryLexicalIndex(snapshots);
            clock.Restart();
            int loaded = snapshots.Current().Keys.Length;
            var load = clock.Elapsed;
            if (loaded != size)
            {
                throw new InvalidOperationException($"The in-memory copy holds {loaded} vectors, not {size}.");
            }

            builds.Row(name, built.Spans, built.Artifacts, built.Copies, built.Elapsed.TotalSeconds, built.FileBytes / 1e6, load.TotalMilliseconds);
            AddMatches(matches, name, size, built.Store, matchExpressions);

            Progress($"query floors at {size} spans");
            using (var connection = built.Store.OpenConnection())
            {
                using var knn = connection.CreateCommand();
                knn.CommandText = "SELECT rowid, distance FROM span_vectors WHERE embedding MATCH $q AND k = 40 ORDER BY distance";
                var knnParameter = knn.Parameters.Add("$q", SqliteType.Blob);
                var blobs = queryVectors.Select(v => MemoryMarshal.AsBytes(v.AsSpan()).ToArray()).ToArray();
                AddLatency(floors, name, size, "vec0 KNN (raw SQL)", Sampler.Latency(blobs.Length, i =>
                {
                    knnParameter.Value = blobs[i];
                    return ReadAll(knn);
                }, settings.Latency));

                using var fts = connection.CreateCommand();
                fts.CommandText = "SELECT rowid, bm25(span_fts) FROM span_fts WHERE span_fts MATCH $q ORDER BY bm25(span_fts) LIMIT 40";
                var ftsParameter = fts.Parameters.Add("$q", SqliteType.Text);
                AddLatency(floors, name, size, "FTS5 BM25, terms OR-ed (raw SQL)", Sampler.Latency(matchExpressions.Length, i =>
                {
                    ftsParameter.Value = matchExpressions[i];
                    return ReadAll(fts);
                }, settings.Latency));
            }

            var all = new RetrievalFilter();
            AddLatency(floors, name, size, "InMemoryVectorIndex.Search (managed scan)",
                Sampler.Latency(queryVectors.Length, i => memory.Search(queryVectors[i], all, K).Count, settings.Latency));
            AddLatency(floors, name, size, "in-memory BM25F (InMemoryLexicalIndex.Search)",
                Sampler.Latency(questions.Count, i => bm25.Search(new LexicalRequest(questions[i], all, K, new LexicalWeights(), new Bm25Parameters())).Count, settings.Latency));

            Progress($"compile latency at {size} spans");
            foreach (int budget in new[] { 1000, 4000 })
            {
                double p50 = CompileLatency(compiles, name, size, built.Store, assets, questions, budget, settings.Latency);
                if (size == sizes[^1])
                {
                    goal.Add((budget, p50));
                }
            }

            if (size == sizes[^1])
            {
                stages.Add((name, StageBreakdown(built.Store, assets, questions, 1000)));
            }

            Sampler.Settle();
        }

        Print("## Synthetic indexes\n\nReal sqlite-docs spans replicated under corpus `synthetic`, paths `copyNNN/<path>`, reusing text, headings and stored embeddings " +
              "(plain SQL inserts into artifacts, spans, span_fts and span_vectors in one transaction). " +
              "\"Vector copy load\" is the first `InMemoryVectorIndex` access, which reads every vector from vec0.\n\n" + builds + "\n" +
              "How many spans the OR-ed FTS5 expression of each question matches (every match is scored before the top 40 are kept):\n\n" + matches);
        Print($"## Raw query floors\n\nOne query at a time over the {questions.Count} questions; query vectors and FTS5 match expressions are prepared " +
              "beforehand (embedding and term extraction are not timed). The SQL statements are prepared once and every row is read.\n\n" + floors);
        Print($"## Compile latency\n\n`CompilerFactory.Create(store, OfflineAssets.Default).Compile(new CompileRequest(query, budget))`, default options, " +
              $"one request at a time over the {questions.Count} questions, after warm-up. \"first call\" is the first compile on a fresh compiler " +
              "(it includes loading the in-memory vector copy).\n\n" + compiles);

        var stageNames = stages.SelectMany(s => s.Stages.Keys).Distinct().ToList();
        var stageTable = new MarkdownTable(["Stage (median ms, budget 1000)", .. stages.Select(s => s.Index)]);
        foreach (var stage in stageNames)
        {
            stageTable.Row([stage, .. stages.Select(s => (object)(s.Stages.TryGetValue(stage, out var v) ? v.Median : double.NaN))]);
        }

        stageTable.Row(["sum of stage medians", .. stages.Select(s => (object)s.Stages.Values.Sum(v => v.Median))]);
        Print("## Compile stages\n\nMedian per stage from the compiler's own Explain timings (warm; Explain's own bookkeeping is not included).\n\n" + stageTable);

        var verdict = new StringBuilder($"## Goal: compile p50 ≤ {GoalP50Milliseconds} ms at {sizes[^1]:N0} spans\n\n");
        foreach (var (budget, p50) in goal)
        {
            verdict.AppendLine(p50 <= GoalP50Milliseconds
                ? $"- Budget {budget}: p50 {p50:F2} ms — met ({GoalP50Milliseconds - p50:F2} ms to spare)."
                : $"- Budget {budget}: p50 {p50:F2} ms — missed by {p50 - GoalP50Milliseconds:F2} ms ({p50 / GoalP50Milliseconds:F2}× the goal).");
        }

        verdict.AppendLine().AppendLine($"Total run time: {total.Elapsed.TotalSeconds:F0} s. Load average at the end: {LoadAverage()}.");
        Print(verdict.ToString());
    }

    private static IndexStore MeasureIngest(
        Settings settings, string temp, OfflineAssets assets, ITokenizer tokenizer, GloveSifEmbedder embedder, EmbeddingModel model)
    {
        IndexStore Fresh(string name) => IndexStore.Open(Path.Combine(temp, name + ".db"), assets.Vec0Path, model);
        // The measurement loop is synchronous and runs in a console process with no synchronization context, so waiting here
        // cannot deadlock; the wait is part of the wall time measured, as the ingest itself is.
        IngestReport Ingest(IndexStore store) =>
            new CorpusIngestor(store, tokenizer, embedder).IngestAsync([settings.Corpus], new IngestOptions()).GetAwaiter().GetResult();

        Progress("ingest warm-up");
        var warmupStore = Fresh("ingest-warmup");
        var warmup = Ingest(warmupStore);
        DeleteDatabase(warmupStore.Path);

        var seconds = new Samples();
        var megabytesPerSecond = new Samples();
        var spansPerSecond = new Samples();
        IndexStore? last = null;
        IngestReport? report = null;
        for (int run = 1; run <= settings.IngestRuns; run++)
        {
            Progress($"fresh ingest {run}/{settings.IngestRuns}");
            if (last is not null)
            {
                DeleteDatabase(last.Path);
            }

            Sampler.Settle();
            last = Fresh($"ingest-{run}");
            long start = Stopwatch.GetTimestamp();
            report = Ingest(last);
            double elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
            seconds.Add(elapsed);
            megabytesPerSecond.Add(report.BytesRead / 1e6 / elapsed);
            spansPerSecond.Add(report.Spans / elapsed);
        }

        var unchanged = new Samples();
        for (int run = 1; run <= settings.IngestRuns; run++)
        {
            Progress($"unchanged re-ingest {run}/{settings.IngestRuns}");
            long start = Stopwatch.GetTimestamp();
            var again = Ingest(last!);
            unchanged.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            if (again.Unchanged != again.Artifacts || again.Added + again.Updated != 0)
            {
                throw new InvalidOperationException($"The re-ingest was not a no-op: {again}.");
            }
        }

        var table = new MarkdownTable("Ingest", "median", "min", "max", "runs")
            .Row("Fresh ingest, wall time (s)", seconds.Median, seconds.Min, seconds.Max, seconds.Count)
            .Row("Fresh ingest, MB/s (bytes read / wall time)", megabytesPerSecond.Median, megabytesPerSecond.Min, megabytesPerSecond.Max, megabytesPerSecond.Count)
            .Row("Fresh ingest, spans/s", spansPerSecond.Median, spansPerSecond.Min, spansPerSecond.Max, spansPerSecond.Count)
            .Row("Unchanged re-ingest, wall time (ms)", unchanged.Median, unchanged.Min, unchanged.Max, unchanged.Count);
        Print($"## Ingest\n\n`CorpusIngestor.IngestAsync([\"{settings.Corpus}\"], new IngestOptions())` into a fresh index file each time, after one untimed warm-up ingest " +
              $"({warmup.ElapsedMs} ms). Per run: {report!.Artifacts:N0} files, {report.BytesRead / 1e6:F2} MB read, {report.Spans:N0} spans, {report.Tokens:N0} tokens; " +
              $"index file {new FileInfo(last!.Path).Length / 1e6:F1} MB (+ WAL). Ingest parallelises load/chunk/embed over the {Environment.ProcessorCount} cores; " +
              "the unchanged re-ingest reads and hashes every file and writes nothing.\n\n" + table);
        return last;
    }

    private static void MeasureTokenizer(Settings settings, ITokenizer tokenizer)
    {
        Progress("token counting");
        var documents = SourceFinder.Find([settings.Corpus], null).Select(f => File.ReadAllText(f.FullPath)).ToArray();
        double megabytes = documents.Sum(d => (long)Encoding.UTF8.GetByteCount(d)) / 1e6;
        long tokens = 0;
        var seconds = Sampler.Passes(() =>
        {
            long count = 0;
            foreach (var document in documents)
            {
                count += tokenizer.CountTokens(document);
            }

            tokens = count;
        }, warmups: 2, passes: 7);
        var table = new MarkdownTable("Token counting (o200k_base, 1 thread)", "median", "min", "max", "passes")
            .Row("MB/s (UTF-8 bytes)", megabytes / seconds.Median, megabytes / seconds.Max, megabytes / seconds.Min, seconds.Count)
            .Row("million tokens/s", tokens / 1e6 / seconds.Median, tokens / 1e6 / seconds.Max, tokens / 1e6 / seconds.Min, seconds.Count)
            .Row("seconds per pass", seconds.Median, seconds.Min, seconds.Max, seconds.Count);
        Print($"## Token counting\n\n`CountTokens` once per file over all {documents.Length:N0} files of the corpus ({megabytes:F2} MB UTF-8, {tokens:N0} tokens) per pass; " +
              "2 warm-up passes, then 7 timed passes.\n\n" + table);
    }

    private static void MeasureEmbedder(IndexStore store, GloveSifEmbedder embedder)
    {
        Progress("embedding");
        var inputs = new List<string>();
        using (var connection = store.OpenConnection())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT heading, text FROM spans ORDER BY id";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                // The same input the ingestor embeds: the heading trail, then the span text.
                var heading = reader.GetString(0);
                var text = reader.GetString(1);
                inputs.Add(heading.Length == 0 ? text : heading + "\n" + text);
            }
        }

        double megabytes = inputs.Sum(s => (long)Encoding.UTF8.GetByteCount(s)) / 1e6;
        float checksum = 0;
        var seconds = Sampler.Passes(() =>
        {
            float sum = 0;
            foreach (var input in inputs)
            {
                sum += embedder.Embed(input)[0];
            }

            checksum = sum;
        }, warmups: 2, passes: 7);
        GC.KeepAlive(checksum);
        var table = new MarkdownTable("Embedding (GloVe-SIF, 1 thread)", "median", "min", "max", "passes")
            .Row("spans/s", inputs.Count / seconds.Median, inputs.Count / seconds.Max, inputs.Count / seconds.Min, seconds.Count)
            .Row("MB/s (UTF-8 bytes of input)", megabytes / seconds.Median, megabytes / seconds.Max, megabytes / seconds.Min, seconds.Count)
            .Row("seconds per pass", seconds.Median, seconds.Min, seconds.Max, seconds.Count);
        Print($"## Embedding\n\n`GloveSifEmbedder.Embed` over every span of the real index ({inputs.Count:N0} spans, {megabytes:F2} MB; input = heading trail + newline + text, " +
              "as the ingestor embeds it) per pass; 2 warm-up passes, then 7 timed passes.\n\n" + table);
    }

    /// <summary>Adds a compile-latency row and returns its p50 in milliseconds.</summary>
    private static double CompileLatency(
        MarkdownTable table, string index, int spans, IndexStore store, OfflineAssets assets, IReadOnlyList<string> questions, int budget, LatencySettings settings)
    {
        Sampler.Settle();
        var compiler = CompilerFactory.Create(store, assets.Embedder, assets);
        long start = Stopwatch.GetTimestamp();
        compiler.CompileAsync(new CompileRequest(questions[0], budget)).GetAwaiter().GetResult();
        double first = Stopwatch.GetElapsedTime(start).TotalMilliseconds;

        var tokens = new int[questions.Count];
        var result = Sampler.Latency(questions.Count, i =>
        {
            // GloVe-SIF completes synchronously; the sampler times plain functions.
            var set = compiler.CompileAsync(new CompileRequest(questions[i], budget)).GetAwaiter().GetResult();
            tokens[i] = set.TokenCount;
            return set.Citations.Count;
        }, settings);
        var ms = result.Milliseconds;
        table.Row(index, spans, budget, ms.Median, ms.Percentile(95), ms.Mean, ms.Max, first, tokens.Average(), result.MeanResults, ms.Count);
        return ms.Median;
    }

    private static Dictionary<string, Samples> StageBreakdown(IndexStore store, OfflineAssets assets, IReadOnlyList<string> questions, int budget)
    {
        var compiler = CompilerFactory.Create(store, assets.Embedder, assets);
        var stages = new Dictionary<string, Samples>(StringComparer.Ordinal);
        for (int round = 0; round < 4; round++)
        {
            foreach (var question in questions)
            {
                var set = compiler.CompileAsync(new CompileRequest(question, budget, Explain: true)).GetAwaiter().GetResult();
                if (round == 0)
                {
                    continue; // warm-up
                }

                foreach (var timing in set.Explain!.Timings)
                {
                    if (!stages.TryGetValue(timing.Stage, out var samples))
                    {
                        stages[timing.Stage] = samples = new Samples();
                    }

                    samples.Add(timing.Milliseconds);
                }
            }
        }

        return stages;
    }

    private static void AddLatency(MarkdownTable table, string index, int spans, string query, LatencyResult result)
    {
        var ms = result.Milliseconds;
        table.Row(index, spans, query, ms.Median, ms.Percentile(95), ms.Mean, ms.Max, result.MeanResults, ms.Count);
    }

    private static int ReadAll(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        int rows = 0;
        while (reader.Read())
        {
            reader.GetInt64(0);
            reader.GetDouble(1);
            rows++;
        }

        return rows;
    }

    private static void AddMatches(MarkdownTable table, string index, int spans, IndexStore store, IReadOnlyList<string> matchExpressions)
    {
        using var connection = store.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM span_fts WHERE span_fts MATCH $q";
        var parameter = command.Parameters.Add("$q", SqliteType.Text);
        var counts = new Samples();
        foreach (var expression in matchExpressions)
        {
            parameter.Value = expression;
            counts.Add(Convert.ToDouble(command.ExecuteScalar(), CultureInfo.InvariantCulture));
        }

        table.Row(index, spans, counts.Median, counts.Mean, counts.Max, $"{counts.Median / spans:P0}");
    }

    /// <summary>The 1, 5 and 15 minute load averages: other work on the machine skews every figure here.</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" / ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static int SpanCount(IndexStore store)
    {
        using var connection = store.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM spans";
        return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static List<string> ReadQuestions(string path)
    {
        var questions = new List<string>();
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            using var document = JsonDocument.Parse(line);
            questions.Add(document.RootElement.GetProperty("query").GetString() ?? throw new InvalidDataException($"A line of {path} has no query."));
        }

        return questions.Count > 0 ? questions : throw new InvalidDataException($"{path} holds no questions.");
    }

    private static void DeleteDatabase(string path)
    {
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            File.Delete(file);
        }
    }

    private static string MachineDescription()
    {
        static string? Field(string file, string key) =>
            File.Exists(file)
                ? File.ReadLines(file).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal))?.Split([':', '='], 2)[1].Trim().Trim('"')
                : null;

        string memory = Field("/proc/meminfo", "MemTotal") is { } kb && long.TryParse(kb.Split(' ')[0], out long kib)
            ? $"{kib / 1024.0 / 1024.0:F1} GiB"
            : "unknown";
        string sqlite;
        try
        {
            using var connection = new SqliteConnection("Data Source=:memory:");
            connection.Open();
            connection.LoadExtension(OfflineAssets.Default.Vec0Path);
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT sqlite_version() || ', sqlite-vec ' || vec_version()";
            sqlite = command.ExecuteScalar() as string ?? "unknown";
        }
        catch (SqliteException e)
        {
            sqlite = $"unknown ({e.Message})";
        }

        return $"- Machine: {Environment.ProcessorCount} logical CPUs, {Field("/proc/cpuinfo", "model name") ?? "unknown CPU"}, {memory} RAM\n" +
               $"- OS: {Field("/etc/os-release", "PRETTY_NAME") ?? RuntimeInformation.OSDescription} ({RuntimeInformation.OSDescription.Trim()})\n" +
               $"- Runtime: {RuntimeInformation.FrameworkDescription}, {(GCSettings.IsServerGC ? "server" : "workstation")} GC, " +
               $"{(Debugger.IsAttached ? "DEBUGGER ATTACHED" : "no debugger")}, optimized build: {IsOptimized()}\n" +
               $"- SQLite {sqlite}\n" +
               $"- Date: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC; load average at the start: {LoadAverage()}\n";
    }

    private static bool IsOptimized() =>
        typeof(WorkingSetCompiler).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false)
            .OfType<DebuggableAttribute>().All(d => !d.IsJITOptimizerDisabled);

    private static Settings Parse(string[] args)
    {
        var root = ContextCompiler.Engine.Assets.RepositoryLayout.Root();
        int spans = 100_000, ingestRuns = 3;
        double minSeconds = 3, maxSeconds = 12;
        string? corpus = null, questions = null;
        bool keep = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--spans": spans = PositiveInt(Value(), "--spans"); break;
                case "--ingest-runs": ingestRuns = PositiveInt(Value(), "--ingest-runs"); break;
                case "--min-seconds": minSeconds = PositiveDouble(Value(), "--min-seconds"); break;
                case "--max-seconds": maxSeconds = PositiveDouble(Value(), "--max-seconds"); break;
                case "--corpus": corpus = Value(); break;
                case "--questions": questions = Value(); break;
                case "--keep": keep = true; break;
                default: throw new ArgumentException($"unknown argument '{args[i]}'.");
            }
        }

        corpus = Path.GetFullPath(corpus ?? Path.Combine(root ?? ".", "corpora", "sqlite-docs"));
        questions = Path.GetFullPath(questions ?? Path.Combine(root ?? ".", "benchmarks", "questions", "sqlite-docs.dev.jsonl"));
        if (!Directory.Exists(corpus))
        {
            throw new ArgumentException($"corpus folder {corpus} does not exist.");
        }

        if (!File.Exists(questions))
        {
            throw new ArgumentException($"questions file {questions} does not exist.");
        }

        return new Settings(spans, ingestRuns, new LatencySettings(MinSeconds: minSeconds, MaxSeconds: Math.Max(minSeconds, maxSeconds)), corpus, questions, keep);
    }

    private static int PositiveInt(string text, string name) =>
        int.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : throw new ArgumentException($"{name} must be a positive integer, not '{text}'.");

    private static double PositiveDouble(string text, string name) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value > 0
            ? value
            : throw new ArgumentException($"{name} must be a positive number, not '{text}'.");

    private static void Print(string markdown)
    {
        Console.Out.WriteLine(markdown.TrimEnd());
        Console.Out.WriteLine();
        Console.Out.Flush();
    }

    private static void Progress(string message) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");
}
