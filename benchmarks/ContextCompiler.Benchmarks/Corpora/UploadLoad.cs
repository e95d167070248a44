using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ContextCompiler.Engine.Index;
using Microsoft.Extensions.DependencyInjection;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Benchmarks.Corpora;

/// <summary>
/// Documents over HTTP (issue 11), against the real server on a loopback port:
///   dotnet run -c Release --project benchmarks/ContextCompiler.Benchmarks -- uploads [--phases throughput,freshness,compile,snapshot]
///     [--files all|N] [--clients 1,4] [--vectors] [--base 100] [--probes 20] [--probe-max-bytes 65536] [--seconds 20] [--warm-cache PATH]
/// <list type="bullet">
/// <item>throughput: for each client count, a fresh server (no corpus ingested at start, a fresh embedding cache file)
/// takes N pages of corpora/sqlite-docs as raw text/markdown PUTs into a tenant corpus; time until every PUT answered
/// (lexical), and with --vectors until every document's status is ready.</item>
/// <item>freshness: a fresh server (fresh cache) holds a base of pages with their vectors; then probe pages are PUT one
/// at a time, and for each: PUT answered → first lexical-only compile (vectorWeight 0) citing it, → status ready, → first
/// vector-only compile (vectorWeight 1) citing it.</item>
/// <item>compile: a server over the shared sqlite-docs corpus (vectors from a copy of a warm cache), one client compiling
/// the 30 dev questions against it for S seconds: idle, while one client uploads pages into a tenant corpus, and idle again
/// on the grown index; then the time of a whole snapshot load at that size, stage by stage.</item>
/// <item>snapshot: only the snapshot load (whole and stage by stage) over the shared sqlite-docs corpus.</item>
/// </list>
/// </summary>
internal static class UploadLoad
{
    private const string ApiKey = "bench-key";
    private const string Corpus = "bench";

    public static async Task<int> RunAsync(string[] args)
    {
        var phases = BenchmarkArgs.Option(args, "--phases", "throughput,freshness,compile").Split(',');
        string root = ContextCompiler.Engine.Assets.RepositoryLayout.Root() ?? throw new InvalidOperationException("Run from inside the repository.");
        string docs = Path.Combine(root, "corpora", "sqlite-docs");
        var all = Directory.GetFiles(docs, "*.md", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(docs, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToArray();
        string filesArg = BenchmarkArgs.Option(args, "--files", "all");
        var files = filesArg == "all" ? all : Spread(all, int.Parse(filesArg, CultureInfo.InvariantCulture));
        var texts = files.ToDictionary(f => f, f => File.ReadAllText(Path.Combine(docs, f)));

        if (phases.Contains("throughput"))
        {
            var clients = BenchmarkArgs.Option(args, "--clients", "1,4").Split(',').Select(int.Parse).ToArray();
            await Throughput(files, texts, clients, args.Contains("--vectors"));
        }

        if (phases.Contains("freshness"))
        {
            int baseCount = int.Parse(BenchmarkArgs.Option(args, "--base", "100"), CultureInfo.InvariantCulture);
            int probes = int.Parse(BenchmarkArgs.Option(args, "--probes", "20"), CultureInfo.InvariantCulture);
            int maxBytes = int.Parse(BenchmarkArgs.Option(args, "--probe-max-bytes", "65536"), CultureInfo.InvariantCulture);
            await Freshness(docs, all, baseCount, probes, maxBytes);
        }

        if (phases.Contains("snapshot"))
        {
            string warm = BenchmarkArgs.Option(args, "--warm-cache", Environment.GetEnvironmentVariable("CONTEXTC_EMBEDDING_CACHE") ?? Path.Combine(root, "data", "embedding-cache.db"));
            await SnapshotOnly(docs, warm);
        }

        if (phases.Contains("compile"))
        {
            double seconds = double.Parse(BenchmarkArgs.Option(args, "--seconds", "20"), CultureInfo.InvariantCulture);
            string warm = BenchmarkArgs.Option(args, "--warm-cache", Environment.GetEnvironmentVariable("CONTEXTC_EMBEDDING_CACHE") ?? Path.Combine(root, "data", "embedding-cache.db"));
            var questions = QuestionSets.Read(root);
            await CompileDuringUploads(docs, all, questions, seconds, warm);
        }

        return 0;
    }

    // ---- 1. Throughput -------------------------------------------------------------------------------------------

    private static async Task Throughput(string[] files, Dictionary<string, string> texts, int[] clientCounts, bool vectors)
    {
        double mb = texts.Values.Sum(t => Encoding.UTF8.GetByteCount(t)) / 1e6;
        var rows = new List<string>();
        foreach (int clients in clientCounts)
        {
            Console.Error.WriteLine($"throughput: {files.Length} files, {clients} clients; load {Load()}");
            await using var server = await StartEmpty("uploads");
            using var http = Client(server);
            await CreateCorpus(http, Corpus);
            int next = -1;
            var latencies = new List<double>();
            var clock = Stopwatch.StartNew();
            var workers = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
            {
                var mine = new List<double>();
                int i;
                while ((i = Interlocked.Increment(ref next)) < files.Length)
                {
                    long t = Stopwatch.GetTimestamp();
                    using var response = await Put(http, Corpus, files[i], texts[files[i]]);
                    mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                }

                lock (latencies)
                {
                    latencies.AddRange(mine);
                }
            })).ToArray();
            await Task.WhenAll(workers);
            double lexical = clock.Elapsed.TotalSeconds;
            string loadAfterPuts = Load();
            var (ready, total, spans) = await ReadyCount(http, Corpus);
            string readyAtPuts = FormattableString.Invariant($"{ready}/{total}");
            string vectorCells = "| | |";
            if (vectors)
            {
                while (ready < total)
                {
                    await Task.Delay(1000);
                    (ready, total, spans) = await ReadyCount(http, Corpus);
                }

                double all = clock.Elapsed.TotalSeconds;
                vectorCells = FormattableString.Invariant($"| {all:F1} | {files.Length / all:F2} | {mb / all:F3} |");
            }

            rows.Add(FormattableString.Invariant(
                $"| {clients} | {files.Length} | {mb:F2} | {spans} | {lexical:F1} | {files.Length / lexical:F1} | {mb / lexical:F2} | {BenchmarkArgs.Percentile(latencies, 50):F1} | {BenchmarkArgs.Percentile(latencies, 95):F1} | {latencies.Max():F0} | {readyAtPuts} {vectorCells} {loadAfterPuts} / {Load()} |"));
        }

        Console.WriteLine();
        Console.WriteLine("| Clients | Files | MB | Spans | All PUTs answered (s) | docs/s | MB/s | PUT p50 (ms) | PUT p95 (ms) | PUT max (ms) | Ready when PUTs done | All ready (s) | docs/s | MB/s | Load after PUTs / at end |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        rows.ForEach(Console.WriteLine);
    }

    // ---- 2. Freshness ----------------------------------------------------------------------------------------------

    private static async Task Freshness(string docs, string[] all, int baseCount, int probeCount, int maxBytes)
    {
        var baseFiles = Spread(all, baseCount);
        var probes = Spread(all.Except(baseFiles).Where(f => new FileInfo(Path.Combine(docs, f)).Length <= maxBytes).ToArray(), probeCount);
        await using var server = await StartEmpty("fresh");
        using var http = Client(server);
        await CreateCorpus(http, Corpus);
        foreach (var f in baseFiles)
        {
            using var r = await Put(http, Corpus, f, File.ReadAllText(Path.Combine(docs, f)));
        }

        var clock = Stopwatch.StartNew();
        while (true)
        {
            var (ready, total, _) = await ReadyCount(http, Corpus);
            if (ready == total)
            {
                break;
            }

            await Task.Delay(500);
        }

        Console.Error.WriteLine($"freshness: base of {baseFiles.Length} pages ready {clock.Elapsed.TotalSeconds:F1} s after its PUTs; load {Load()}");
        // Warm-up: JIT of both compile paths and the query embedder.
        for (int i = 0; i < 5; i++)
        {
            await Compile(http, "write-ahead log checkpoint", Corpus, 0);
            await Compile(http, "write-ahead log checkpoint " + i, Corpus, 1);
        }

        var putMs = new List<double>();
        var lexicalMs = new List<double>();
        var readyMs = new List<double>();
        var vectorMs = new List<double>();
        var lexicalTries = new List<int>();
        var rows = new List<string>();
        string loadBefore = Load();
        foreach (var probe in probes)
        {
            string text = File.ReadAllText(Path.Combine(docs, probe));
            string phrase = Phrase(text);
            long t0 = Stopwatch.GetTimestamp();
            using (var put = await Put(http, Corpus, probe, text))
            {
                put.EnsureSuccessStatusCode();
            }

            long t1 = Stopwatch.GetTimestamp();
            double put1 = Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds;
            double? lexical = null;
            int tries = 0;
            while (lexical is null && Stopwatch.GetElapsedTime(t1).TotalSeconds < 10)
            {
                tries++;
                if ((await Compile(http, phrase, Corpus, 0)).Contains(probe))
                {
                    lexical = Stopwatch.GetElapsedTime(t1).TotalMilliseconds;
                }
            }

            long tr = Stopwatch.GetTimestamp();
            await Compile(http, phrase, Corpus, 0);
            double repeat = Stopwatch.GetElapsedTime(tr).TotalMilliseconds;
            double? ready = null, vector = null;
            // Until ready (at most 120 s), then at most 2 s more for a vector-only hit: a phrase whose page never ranks
            // within the budget on vectors alone must not hold the run.
            while ((ready is null || vector is null) && Stopwatch.GetElapsedTime(t1).TotalSeconds < 120
                && (ready is null || Stopwatch.GetElapsedTime(t1).TotalMilliseconds < ready + 2000))
            {
                if (ready is null && await Status(http, Corpus, probe) == "ready")
                {
                    ready = Stopwatch.GetElapsedTime(t1).TotalMilliseconds;
                }

                if (vector is null && (await Compile(http, phrase, Corpus, 1)).Contains(probe))
                {
                    vector = Stopwatch.GetElapsedTime(t1).TotalMilliseconds;
                }

                if (ready is null || vector is null)
                {
                    await Task.Delay(50);
                }
            }

            var info = await Info(http, Corpus, probe);
            putMs.Add(put1);
            lexicalTries.Add(tries);
            if (lexical is { } l)
            {
                lexicalMs.Add(l);
            }

            if (ready is { } r)
            {
                readyMs.Add(r);
            }

            if (vector is { } v)
            {
                vectorMs.Add(v);
            }

            rows.Add(FormattableString.Invariant(
                $"| {probe} | {info.Bytes} | {info.Spans} | {put1:F1} | {Cell(lexical)} | {tries} | {repeat:F1} | {Cell(ready)} | {Cell(vector)} |"));
            Console.Error.WriteLine(rows[^1]);
            await Task.Delay(300);
        }

        Console.WriteLine();
        Console.WriteLine($"Freshness: base {baseFiles.Length} pages (vectors complete), {probes.Length} probe pages of at most {maxBytes} bytes, one at a time; load before {loadBefore}, after {Load()}.");
        Console.WriteLine();
        Console.WriteLine("| Probe | Bytes | Spans | PUT (ms) | PUT answered → lexical hit (ms) | compiles | next lexical compile (ms) | → status ready (ms) | → vector-only hit (ms) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        rows.ForEach(Console.WriteLine);
        Console.WriteLine();
        Console.WriteLine("| Measure | n | p50 (ms) | p95 (ms) | max (ms) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Summary("PUT (send → answer)", putMs);
        Summary("PUT answered → first lexical-only hit", lexicalMs);
        Summary("PUT answered → status ready", readyMs);
        Summary("PUT answered → first vector-only hit", vectorMs);
        Console.WriteLine($"Lexical hit on the first compile after the PUT: {lexicalTries.Count(t => t == 1)} of {lexicalTries.Count}.");
    }

    // ---- 3. Compile latency during uploads -------------------------------------------------------------------------

    private static async Task CompileDuringUploads(string docs, string[] all, string[] questions, double seconds, string warmCache)
    {
        await using var server = await LoopbackServer.StartAsync("compile", (o, folder) =>
        {
            o.CorpusPath = docs;
            string cache = Path.Combine(folder, "embedding-cache.db");
            if (File.Exists(warmCache))
            {
                File.Copy(warmCache, cache);
                Console.Error.WriteLine($"compile: embedding cache copied from {warmCache}");
            }

            o.EmbeddingCachePath = cache;
            o.ApiKeys[ApiKey] = "bench";
        });
        await server.WaitForVectorsAsync();
        using var http = Client(server);
        var shared = (await http.GetFromJsonAsync<JsonElement>("/v1/corpora")).GetProperty("items").EnumerateArray()
            .First(c => c.GetProperty("shared").GetBoolean()).GetProperty("name").GetString()!;
        await CreateCorpus(http, Corpus);
        var store = SqliteStore.Of(server.App.Services).Index;

        // Warm-up: JIT, snapshot, the 30 query embeddings into the in-memory cache.
        await CompileLoop(http, questions, shared, 3, 0.5);
        var rows = new List<string>();
        rows.Add(await Row("idle", http, questions, shared, seconds, null, store, 0.5));
        int uploaded = 0, round = 0;
        // An uploader putting pages into the tenant corpus one after another (a new path each time), paced or not.
        async Task<string> WithUploader(string name, double perSecond, double vectorWeight)
        {
            using var stop = new CancellationTokenSource();
            int mine = 0;
            var uploader = Task.Run(async () =>
            {
                var pace = Stopwatch.StartNew();
                while (!stop.IsCancellationRequested)
                {
                    int i = uploaded;
                    string f = all[i % all.Length];
                    using var r = await Put(http, Corpus, $"u{round}/{i}/{f}", File.ReadAllText(Path.Combine(docs, f)));
                    Interlocked.Increment(ref uploaded);
                    mine++;
                    if (perSecond > 0)
                    {
                        double wait = mine / perSecond - pace.Elapsed.TotalSeconds;
                        if (wait > 0)
                        {
                            try { await Task.Delay(TimeSpan.FromSeconds(wait), stop.Token); } catch (OperationCanceledException) { }
                        }
                    }
                }
            });
            string row = await Row(name, http, questions, shared, seconds, () => Volatile.Read(ref mine), store, vectorWeight);
            stop.Cancel();
            await uploader;
            round++;
            return row;
        }

        rows.Add(await WithUploader("while 1 client uploads 1 page/s", 1, 0.5));
        rows.Add(await WithUploader("while 1 client uploads flat out", 0, 0.5));
        rows.Add(await WithUploader("while 1 client uploads flat out; lexical-only compiles (vectorWeight 0)", 0, 0));
        Console.Error.WriteLine($"compile: {uploaded} pages uploaded; waiting for their vectors");
        await server.WaitForVectorsAsync();
        rows.Add(await Row("idle again (index grown by the uploads)", http, questions, shared, seconds, null, store, 0.5));
        rows.Add(await Row("idle again; lexical-only compiles (vectorWeight 0)", http, questions, shared, seconds, null, store, 0));

        // Where the time goes: a whole snapshot load at this size, as every compile after a write does it.
        var loads = new List<double>();
        for (int i = 0; i < 7; i++)
        {
            var cache = new IndexSnapshotCache(store);
            long t = Stopwatch.GetTimestamp();
            var snapshot = cache.Current();
            loads.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            if (i == 0)
            {
                Console.Error.WriteLine($"snapshot: {snapshot.Keys.Length} spans, {snapshot.VectorCount} vectors");
            }
        }

        var spans = new IndexSnapshotCache(store).Current().Keys.Length;
        var stages = LoadStages(store);
        Console.WriteLine();
        Console.WriteLine($"Compile: one client, the {questions.Length} dev questions in turn against the shared corpus '{shared}', budget 1000, default options except where a row says vectorWeight 0 (query embeddings cached after warm-up); uploads are pages of the same corpus at new paths, so their passage embeddings come from the copied cache, {seconds} s per row.");
        Console.WriteLine();
        Console.WriteLine("| Condition | Compiles | compiles/s | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | Pages uploaded meanwhile | Index spans after | Load (1 min) before / after |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        rows.ForEach(Console.WriteLine);
        Console.WriteLine();
        Console.WriteLine(FormattableString.Invariant(
            $"IndexSnapshotCache load from scratch at {spans} spans (7 loads): p50 {BenchmarkArgs.Percentile(loads, 50):F0} ms, min {loads.Min():F0} ms, max {loads.Max():F0} ms."));
        Console.WriteLine();
        Console.WriteLine("The same load, stage by stage (the steps of IndexSnapshotCache.Load, repeated here; median of 5):");
        Console.WriteLine();
        Console.WriteLine("| Stage | p50 (ms) |");
        Console.WriteLine("|---|---:|");
        foreach (var (stage, ms) in stages)
        {
            Console.WriteLine(FormattableString.Invariant($"| {stage} | {ms:F0} |"));
        }
    }

    private static async Task SnapshotOnly(string docs, string warmCache)
    {
        await using var server = await LoopbackServer.StartAsync("snapshot", (o, folder) =>
        {
            o.CorpusPath = docs;
            string cache = Path.Combine(folder, "embedding-cache.db");
            if (File.Exists(warmCache))
            {
                File.Copy(warmCache, cache);
            }

            o.EmbeddingCachePath = cache;
        });
        await server.WaitForVectorsAsync();
        var store = SqliteStore.Of(server.App.Services).Index;
        var loads = new List<double>();
        int spans = 0;
        for (int i = 0; i < 7; i++)
        {
            long t = Stopwatch.GetTimestamp();
            spans = new IndexSnapshotCache(store).Current().Keys.Length;
            loads.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }

        Console.WriteLine(FormattableString.Invariant(
            $"IndexSnapshotCache load from scratch at {spans} spans (7 loads), load {Load()}: p50 {BenchmarkArgs.Percentile(loads, 50):F0} ms, min {loads.Min():F0} ms, max {loads.Max():F0} ms."));
        Console.WriteLine();
        Console.WriteLine("| Stage | p50 (ms) |");
        Console.WriteLine("|---|---:|");
        foreach (var (stage, ms) in LoadStages(store))
        {
            Console.WriteLine(FormattableString.Invariant($"| {stage} | {ms:F0} |"));
        }
    }

    private static async Task<string> Row(string name, HttpClient http, string[] questions, string corpus, double seconds, Func<int>? uploaded, IndexStore store, double vectorWeight)
    {
        string before = Load();
        int upBefore = uploaded?.Invoke() ?? 0;
        var clock = Stopwatch.StartNew();
        var latencies = await CompileLoop(http, questions, corpus, seconds, vectorWeight);
        double elapsed = clock.Elapsed.TotalSeconds;
        int up = (uploaded?.Invoke() ?? 0) - upBefore;
        string rate = uploaded is null ? "–" : FormattableString.Invariant($"{up} ({up / elapsed:F1}/s)");
        long spans;
        using (var lease = store.Rent())
        {
            using var count = lease.Connection.CreateCommand();
            count.CommandText = "SELECT COUNT(*) FROM spans";
            spans = (long)count.ExecuteScalar()!;
        }

        return FormattableString.Invariant(
            $"| {name} | {latencies.Count} | {latencies.Count / elapsed:F1} | {BenchmarkArgs.Percentile(latencies, 50):F1} | {BenchmarkArgs.Percentile(latencies, 95):F1} | {BenchmarkArgs.Percentile(latencies, 99):F1} | {latencies.Max():F1} | {rate} | {spans} | {before} / {Load()} |");
    }

    private static async Task<List<double>> CompileLoop(HttpClient http, string[] questions, string corpus, double seconds, double vectorWeight)
    {
        var latencies = new List<double>();
        var clock = Stopwatch.StartNew();
        for (int k = 0; clock.Elapsed.TotalSeconds < seconds; k++)
        {
            long t = Stopwatch.GetTimestamp();
            using var response = await http.PostAsJsonAsync("/v1/compile", new { query = questions[k % questions.Length], budget = 1000, corpus, options = new { vectorWeight } });
            await response.Content.ReadAsByteArrayAsync();
            response.EnsureSuccessStatusCode();
            latencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }

        return latencies;
    }

    // The steps of IndexSnapshotCache.Load (private there), timed one by one: vectors from vec0, spans with their text,
    // the matrix copy, the BM25 build.
    private static List<(string Stage, double Ms)> LoadStages(IndexStore store)
    {
        var times = new Dictionary<string, List<double>>();
        void Add(string stage, long start) => (times.TryGetValue(stage, out var l) ? l : times[stage] = []).Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        for (int pass = 0; pass < 5; pass++)
        {
            using var lease = store.Rent();
            long t = Stopwatch.GetTimestamp();
            var vectors = IndexReader.Vectors(lease.Connection);
            Add("read vectors (SELECT rowid, embedding FROM span_vectors)", t);
            t = Stopwatch.GetTimestamp();
            var keys = new List<ContextCompiler.Core.Retrieve.SpanKey>();
            var documents = new List<ContextCompiler.Core.Retrieve.Bm25Document>();
            using (var command = lease.Connection.CreateCommand())
            {
                command.CommandText = """
                    SELECT s.id, a.corpus, a.path, s.start_line, s.heading, s.text
                    FROM spans s JOIN artifacts a ON a.id = s.artifact_id
                    ORDER BY a.corpus, a.path, s.start_line
                    """;
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    var key = new ContextCompiler.Core.Retrieve.SpanKey(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3));
                    keys.Add(key);
                    documents.Add(new ContextCompiler.Core.Retrieve.Bm25Document(key, key.Path.Replace('/', ' '), reader.GetString(4), reader.GetString(5)));
                }
            }

            Add("read spans with text (join artifacts, ordered)", t);
            t = Stopwatch.GetTimestamp();
            int dims = store.Model.Dimensions;
            var matrix = new float[keys.Count * dims];
            for (int row = 0; row < keys.Count; row++)
            {
                if (vectors.TryGetValue(keys[row].Id, out var blob))
                {
                    System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(blob).CopyTo(matrix.AsSpan(row * dims, dims));
                }
            }

            Add("fill the vector matrix", t);
            t = Stopwatch.GetTimestamp();
            ContextCompiler.Core.Retrieve.Bm25Index.Build(documents);
            Add("build the BM25 index", t);
        }

        return times.Select(kv => (kv.Key, BenchmarkArgs.Percentile(kv.Value, 50))).ToList();
    }

    // ---- Helpers ---------------------------------------------------------------------------------------------------

    private static Task<LoopbackServer> StartEmpty(string name) => LoopbackServer.StartAsync(name, (o, folder) =>
    {
        // Nothing ingested at start, so the uploads are the only writes; a fresh embedding cache, so every vector is computed.
        o.CorpusPath = Directory.CreateDirectory(Path.Combine(folder, "empty-corpus")).FullName;
        o.IngestOnStart = false;
        o.EmbeddingCachePath = Path.Combine(folder, "embedding-cache-fresh.db");
        o.ApiKeys[ApiKey] = "bench";
    });

    private static HttpClient Client(LoopbackServer server)
    {
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        return http;
    }

    private static async Task CreateCorpus(HttpClient http, string name)
    {
        using var response = await http.PostAsJsonAsync("/v1/corpora", new { name });
        response.EnsureSuccessStatusCode();
    }

    private static string DocumentUrl(string corpus, string path) =>
        $"/v1/corpora/{corpus}/documents/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}";

    private static async Task<HttpResponseMessage> Put(HttpClient http, string corpus, string path, string text)
    {
        var response = await http.PutAsync(DocumentUrl(corpus, path), new StringContent(text, Encoding.UTF8, "text/markdown"));
        if (response.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.OK))
        {
            throw new InvalidOperationException($"PUT {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        await response.Content.ReadAsByteArrayAsync();
        return response;
    }

    private static async Task<string> Status(HttpClient http, string corpus, string path) =>
        (await Info(http, corpus, path)).Status;

    private static async Task<(string Status, long Bytes, int Spans)> Info(HttpClient http, string corpus, string path)
    {
        var body = await http.GetFromJsonAsync<JsonElement>(DocumentUrl(corpus, path));
        var d = body.GetProperty("document");
        return (d.GetProperty("status").GetString()!, d.GetProperty("bytes").GetInt64(), d.GetProperty("spans").GetInt32());
    }

    // Documents ready, documents in all, and their spans, from the listing (pages of 1000).
    private static async Task<(int Ready, int Total, int Spans)> ReadyCount(HttpClient http, string corpus)
    {
        int ready = 0, total = 0, spans = 0;
        string? cursor = null;
        do
        {
            var page = await http.GetFromJsonAsync<JsonElement>($"/v1/corpora/{corpus}/documents?limit=1000" + (cursor is null ? string.Empty : "&cursor=" + cursor));
            foreach (var d in page.GetProperty("items").EnumerateArray())
            {
                total++;
                spans += d.GetProperty("spans").GetInt32();
                if (d.GetProperty("status").GetString() == "ready")
                {
                    ready++;
                }
            }

            cursor = page.TryGetProperty("nextCursor", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        }
        while (cursor is not null);
        return (ready, total, spans);
    }

    // The paths of the citations of a compile restricted to the corpus; vectorWeight 0 is BM25 alone, 1 vectors alone.
    private static async Task<HashSet<string>> Compile(HttpClient http, string query, string corpus, double vectorWeight)
    {
        using var response = await http.PostAsJsonAsync("/v1/compile", new { query, budget = 1000, corpus, options = new { vectorWeight } });
        response.EnsureSuccessStatusCode();
        var set = await response.Content.ReadFromJsonAsync<JsonElement>();
        return set.GetProperty("citations").EnumerateArray().Select(c => c.GetProperty("path").GetString()!).ToHashSet(StringComparer.Ordinal);
    }

    // A distinctive phrase of the page: the first 12 words of its prose line in the middle of its prose lines.
    private static string Phrase(string text)
    {
        var prose = text.Split('\n').Select(l => l.Trim())
            .Where(l => l.Length > 0 && !"#|`>-*[<!".Contains(l[0]) && l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length >= 10)
            .ToList();
        var line = prose.Count > 0 ? prose[prose.Count / 2] : text.Split('\n').OrderByDescending(l => l.Length).First();
        return string.Join(' ', line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(12));
    }

    private static string[] Spread(string[] items, int n) =>
        n >= items.Length ? items : Enumerable.Range(0, n).Select(i => items[(int)((long)i * items.Length / n)]).Distinct().ToArray();

    private static void Summary(string name, List<double> values) =>
        Console.WriteLine(values.Count == 0
            ? $"| {name} | 0 | | | |"
            : FormattableString.Invariant($"| {name} | {values.Count} | {BenchmarkArgs.Percentile(values, 50):F1} | {BenchmarkArgs.Percentile(values, 95):F1} | {values.Max():F1} |"));

    private static string Cell(double? ms) => ms is { } v ? v.ToString("F1", CultureInfo.InvariantCulture) : "no hit";

    private static string Load()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }
}
