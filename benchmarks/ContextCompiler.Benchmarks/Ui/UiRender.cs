using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace ContextCompiler.Benchmarks.Ui;

/// <summary>
/// How long the server takes to render a long session's replay page (issue 12 asks for under 200 ms for 50 turns):
///   dotnet run -c Release --project benchmarks/ContextCompiler.Benchmarks -- ui [--turns 50] [--requests 200] [--files a.md,…|all]
/// The real server (Kestrel on a loopback port, a fresh SQLite file over a copy of corpora/sqlite-docs) gets one session
/// seeded through the HTTP API: a turn (compile + history) and an assistant reply citing [1], [2] and an unknown [99], N
/// times. Then GET /ui/sessions/{id} is requested one at a time, after a warm-up. Two clocks: a middleware's Stopwatch
/// around the page's endpoint (the server's own time: the session's reads, the render, the body written out; the
/// server's earlier middleware such as authentication is outside it) and the client's time for the whole response
/// over loopback, which includes everything.
/// </summary>
internal static class UiRender
{
    private const string ApiKey = "bench-key";
    private static readonly string[] DefaultFiles = ["wal.md", "pragma.md", "lang_upsert.md", "lang_transaction.md", "foreignkeys.md"];

    private static readonly string[] Questions =
    [
        "How do I enable write-ahead logging?",
        "What happens to readers during a checkpoint?",
        "How does an upsert handle a uniqueness conflict?",
        "When are foreign key constraints enforced?",
        "What does PRAGMA synchronous control?",
        "Can a transaction be nested with savepoints?",
        "How do I make a checkpoint run automatically?",
        "What is the difference between DEFERRED and IMMEDIATE transactions?",
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        int turns = int.Parse(BenchmarkArgs.Option(args, "--turns", "50"), CultureInfo.InvariantCulture);
        int requests = int.Parse(BenchmarkArgs.Option(args, "--requests", "200"), CultureInfo.InvariantCulture);
        string files = BenchmarkArgs.Option(args, "--files", string.Join(',', DefaultFiles));
        string root = ContextCompiler.Engine.Assets.RepositoryLayout.Root() ?? throw new InvalidOperationException("Run from inside the repository.");

        var serverTimes = new ConcurrentQueue<double>();
        await using var server = await LoopbackServer.StartAsync("ui", (o, folder) =>
        {
            o.CorpusPath = CopyCorpus(Path.Combine(root, "corpora", "sqlite-docs"), Path.Combine(folder, "sqlite-docs"), files);
            o.EmbeddingCachePath = Environment.GetEnvironmentVariable("CONTEXTC_EMBEDDING_CACHE") ?? Path.Combine(folder, "embedding-cache.db");
            o.ApiKeys[ApiKey] = "bench";
        }, app => app.Use(async (HttpContext context, RequestDelegate next) =>
        {
            // Added after the pipeline the server builds: it runs after the server's own middleware (authentication, the /ui
            // sign-in check) and wraps the page's endpoint, that is the session's reads and the render.
            if (!context.Request.Path.StartsWithSegments("/ui/sessions"))
            {
                await next(context);
                return;
            }

            long start = Stopwatch.GetTimestamp();
            await next(context);
            serverTimes.Enqueue(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }));
        await server.WaitForVectorsAsync();

        using var http = new HttpClient { BaseAddress = server.Address };
        http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        var seedClock = Stopwatch.StartNew();
        var created = await http.PostAsJsonAsync("/v1/sessions", new { userId = "ui-bench" });
        created.EnsureSuccessStatusCode();
        string id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        int citations = 0;
        for (int i = 0; i < turns; i++)
        {
            var turn = await http.PostAsJsonAsync($"/v1/sessions/{id}/turns", new { message = $"{Questions[i % Questions.Length]} (turn {i + 1})" });
            turn.EnsureSuccessStatusCode();
            citations += (await turn.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("workingSet").GetProperty("citations").GetArrayLength();
            var reply = await http.PostAsJsonAsync($"/v1/sessions/{id}/messages", new
            {
                role = "assistant",
                content = $"Turn {i + 1}: the answer is in the first passage [1], with more in [2]. An invented source [99] is flagged.",
            });
            reply.EnsureSuccessStatusCode();
        }

        Console.Error.WriteLine($"seeded {turns} turns ({citations} citations) in {seedClock.Elapsed.TotalSeconds:F1} s");

        string path = $"/ui/sessions/{id}";
        var first = await http.GetAsync(path);
        if (!first.IsSuccessStatusCode)
        {
            Console.Error.WriteLine($"GET {path} answered {(int)first.StatusCode}: the replay page is not there.");
            return 1;
        }

        var html = await first.Content.ReadAsByteArrayAsync();
        int articles = CountOccurrences(System.Text.Encoding.UTF8.GetString(html), "<article class=\"turn\"");
        for (int i = 0; i < 20; i++)
        {
            await Fetch(http, path);
        }

        serverTimes.Clear();
        var clientTimes = new List<double>(requests);
        long bytes = 0;
        for (int i = 0; i < requests; i++)
        {
            long start = Stopwatch.GetTimestamp();
            bytes = await Fetch(http, path);
            clientTimes.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        var server_ = serverTimes.ToList();
        string load = File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
        Console.WriteLine($"### Replay page render: {turns} turns, {requests} sequential requests");
        Console.WriteLine();
        Console.WriteLine($"GET {path.Replace(id, "{id}", StringComparison.Ordinal)}: {bytes:N0} bytes of HTML, {articles} turn articles, {citations} citations; " +
                          $"{Environment.ProcessorCount} cores, load average {load} at the end.");
        Console.WriteLine();
        Console.WriteLine("| clock | p50 ms | p95 ms | p99 ms | max ms | mean ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        Console.WriteLine(Row("server (middleware)", server_));
        Console.WriteLine(Row("client (loopback)", clientTimes));
        return 0;
    }

    private static async Task<long> Fetch(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseContentRead);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadAsByteArrayAsync()).LongLength;
    }

    private static string Row(string name, List<double> times)
    {
        times.Sort();
        double P(double q) => times[Math.Min(times.Count - 1, (int)Math.Ceiling(q * times.Count) - 1)];
        return string.Create(CultureInfo.InvariantCulture, $"| {name} | {P(0.50):F1} | {P(0.95):F1} | {P(0.99):F1} | {times[^1]:F1} | {times.Average():F1} |");
    }

    private static int CountOccurrences(string text, string needle)
    {
        int count = 0;
        for (int i = text.IndexOf(needle, StringComparison.Ordinal); i >= 0; i = text.IndexOf(needle, i + needle.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static string CopyCorpus(string source, string target, string files)
    {
        Directory.CreateDirectory(target);
        var names = files == "all"
            ? Directory.EnumerateFiles(source, "*.md").Select(f => Path.GetFileName(f)).ToList()
            : files.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        foreach (var name in names)
        {
            File.Copy(Path.Combine(source, name), Path.Combine(target, name));
        }

        return target;
    }
}
