using System.Diagnostics;
using System.Globalization;
using ContextCompiler.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.Benchmarks.Load;

/// <summary>
/// Sustained turns per second and turn latency over loopback HTTP against the real server (Kestrel, SQLite file,
/// the default corpus), with N sessions taking turns concurrently, each session one turn at a time like a chatbot:
///   dotnet run -c Release --project benchmarks/ContextCompiler.Benchmarks -- turns [--sessions 1,4,16,32] [--seconds 15] [--idempotency-keys]
/// With <c>--idempotency-keys</c> every turn and reply carries a fresh Idempotency-Key, which costs a lookup before the
/// write and an insert inside its transaction.
/// </summary>
internal static class TurnLoad
{
    public static async Task<int> RunAsync(string[] args)
    {
        var sessionCounts = BenchmarkArgs.Option(args, "--sessions", "1,4,16,32").Split(',').Select(int.Parse).ToArray();
        double seconds = double.Parse(BenchmarkArgs.Option(args, "--seconds", "15"), CultureInfo.InvariantCulture);
        bool keys = args.Contains("--idempotency-keys");
        string root = ContextCompiler.Engine.Assets.RepositoryLayout.Root() ?? throw new InvalidOperationException("Run from inside the repository.");
        var questions = QuestionSets.Read(root);
        await using var server = await LoopbackServer.StartAsync("turns", (o, _) =>
        {
            o.CorpusPath = Path.Combine(root, "corpora", "sqlite-docs");
            // The passage vectors come from the shared cache (fill it once with `contextc ingest`); the queries stay cold.
            o.EmbeddingCachePath = Environment.GetEnvironmentVariable("CONTEXTC_EMBEDDING_CACHE") ?? Path.Combine(root, "data", "embedding-cache.db");
        });
        await server.WaitForVectorsAsync();
        using var http = new HttpClient { BaseAddress = server.Address };
        http.DefaultRequestHeaders.ConnectionClose = false;

        Console.WriteLine($"| Concurrent sessions | Turns | Seconds | Turns/s | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | Errors |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        Console.Error.WriteLine(keys ? "every write carries an Idempotency-Key" : "no Idempotency-Key");
        await Drive(http, questions, 2, 3, keys); // warm-up: JIT, snapshot load, connection pool
        foreach (int n in sessionCounts)
        {
            var (turns, elapsed, latencies, errors) = await Drive(http, questions, n, seconds, keys);
            latencies.Sort();
            Console.WriteLine(FormattableString.Invariant(
                $"| {n} | {turns} | {elapsed:F1} | {turns / elapsed:F1} | {BenchmarkArgs.Percentile(latencies, 50):F2} | {BenchmarkArgs.Percentile(latencies, 95):F2} | {BenchmarkArgs.Percentile(latencies, 99):F2} | {latencies[^1]:F2} | {errors} |"));
        }

        return 0;
    }

    // Each session: a turn (timed), then the assistant's reply (not timed), again and again until time is up. Shared with
    // the telemetry benchmark, which drives `contextc serve` in its own process the same way. The call's nonce, the session
    // and a counter make every message new, so each turn embeds its query cold, as a real conversation would. (Until
    // issue 19 the message carried the counter alone, which starts at the session's number: sessions repeated each
    // other's messages and most turns were answered from the query cache.)
    internal static Task<(int Turns, double Seconds, List<double> Latencies, int Errors)> Drive(HttpClient http, string[] questions, int sessions, double seconds, bool keys)
    {
        string nonce = Guid.NewGuid().ToString("N")[..8];
        return Drive([http], questions, sessions, seconds, keys, (question, session, turn) => $"{question} ({nonce} {session}/{turn})");
    }

    /// <summary>
    /// As above, with each request (session creation, turn, reply) sent to the next of <paramref name="replicas"/> in turn,
    /// and each message made by <paramref name="message"/> from a question, the session's number and the turn's counter.
    /// </summary>
    internal static Task<(int Turns, double Seconds, List<double> Latencies, int Errors)> Drive(
        HttpClient[] replicas, string[] questions, int sessions, double seconds, bool keys, Func<string, int, long, string> message) =>
        Drive(replicas, questions, sessions, seconds, new ChatScript(message, (sent, _, _) => "Noted: " + sent, IdempotencyKeys: keys), new ErrorTally());

    /// <summary>
    /// The closed loop: <paramref name="sessions"/> chats of <paramref name="script"/>, each sending its next turn when the
    /// last one (and its reply, and a new session when one is due) is done, for <paramref name="seconds"/>. Chat s starts at
    /// question s. Latencies are of every turn, failed ones included; failures are counted in <paramref name="errors"/>, and
    /// the count returned is this run's.
    /// </summary>
    internal static async Task<(int Turns, double Seconds, List<double> Latencies, int Errors)> Drive(
        HttpClient[] replicas, string[] questions, int sessions, double seconds, ChatScript script, ErrorTally errors)
    {
        int next = -1;
        HttpClient Pick() => replicas[(Interlocked.Increment(ref next) & int.MaxValue) % replicas.Length];
        var chats = new List<ChatSession>();
        for (int i = 0; i < sessions; i++)
        {
            chats.Add(await ChatSession.StartAsync(Pick, i, script, errors));
        }

        int before = errors.Total;
        var latencies = new List<double>();
        var stop = Stopwatch.StartNew();
        var workers = chats.Select((chat, s) => Task.Run(async () =>
        {
            var mine = new List<double>();
            long k = s;
            while (stop.Elapsed.TotalSeconds < seconds)
            {
                var sent = script.Message(questions[k % questions.Length], s, k);
                var t = Stopwatch.GetTimestamp();
                await chat.TurnAsync(sent);
                mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                if (script.Reply is { } reply)
                {
                    await chat.ReplyAsync(reply(sent, s, k));
                }

                await chat.RotateIfDueAsync();
                k++;
            }

            lock (latencies)
            {
                latencies.AddRange(mine);
            }
        })).ToArray();
        await Task.WhenAll(workers);
        return (latencies.Count, stop.Elapsed.TotalSeconds, latencies, errors.Total - before);
    }
}
