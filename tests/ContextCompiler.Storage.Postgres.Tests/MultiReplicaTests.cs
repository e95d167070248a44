using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;
using Xunit.Abstractions;

namespace ContextCompiler.Storage.Postgres.Tests;

/// <summary>
/// Scale-out under load (issue 17): three server processes on one PGlite database, eight clients writing turns,
/// assistant replies and documents through whichever replica they pick, one replica SIGKILLed and restarted in the
/// middle. Every acknowledged write must then be stored exactly once, every session's sequences gapless, every replica
/// must replay every session byte for byte alike, and every span must have its one vector.
/// </summary>
/// <remarks>
/// PGlite runs one query at a time, so the load is modest and the timeouts generous: this checks correctness across
/// processes, not throughput. The clients' choices are seeded; only the interleaving depends on timing.
/// </remarks>
public sealed class MultiReplicaTests(PgliteServer pglite, ITestOutputHelper output) : IClassFixture<PgliteServer>, IDisposable
{
    private const int ReplicaCount = 3;
    private const int Clients = 8;
    private const int OperationsPerClient = 15;
    private const int SharedSessions = 4;
    private const int MaxAttempts = 40;
    private const string Corpus = "shared";
    private static readonly string[] CorpusFiles = ["wal.md", "pragma.md", "lang_transaction.md"];
    private static readonly string[] Topics = ["write-ahead logging", "checkpoints", "PRAGMA journal_mode", "savepoints", "BEGIN IMMEDIATE"];
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);

    private readonly string _corpus = CorpusCopy();
    // Beside the corpus, not in it: the replicas ingest the corpus folder.
    private readonly string _logs = Directory.CreateTempSubdirectory("contextc-pg-replicas-logs-").FullName;
    private bool _passed;
    private readonly Slot?[] _slots = new Slot?[ReplicaCount];
    private readonly List<ReplicaProcess> _started = [];
    private readonly List<HttpClient> _retired = [];
    private readonly ConcurrentBag<Acknowledged> _acknowledged = [];
    private int _completed;
    private int _retries;
    private int _conflicts;
    private int _connectionErrors;
    private int _serverErrors;

    [PgliteFact]
    public async Task Eight_clients_on_three_replicas_with_one_killed_lose_and_duplicate_nothing()
    {
        var total = Stopwatch.StartNew();
        _slots[0] = await StartReplicaAsync(0, "replica 0");
        await WaitForVectorsAsync(_slots[0]!.Client, TimeSpan.FromMinutes(5));
        _slots[1] = await StartReplicaAsync(1, "replica 1");
        _slots[2] = await StartReplicaAsync(2, "replica 2");
        output.WriteLine($"three replicas ready after {total.Elapsed.TotalSeconds:F1} s");

        var first = _slots[0]!.Client;
        Assert.Equal(HttpStatusCode.Created, (await first.PostAsJsonAsync("/v1/corpora", new { name = Corpus })).StatusCode);
        var sessions = new List<string>();
        for (int s = 0; s < SharedSessions; s++)
        {
            var created = await first.PostAsJsonAsync("/v1/sessions", new { userId = $"load-{s}" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            sessions.Add((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
        }

        // The load, with a replica killed once a third of it is acknowledged and started again on the same database.
        var load = Stopwatch.StartNew();
        using var loadOver = new CancellationTokenSource();
        var killer = KillAndRestartAsync(victim: 1, after: Clients * OperationsPerClient / 3, loadOver.Token);
        try
        {
            await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => RunClientAsync(c, sessions)));
        }
        finally
        {
            // A client that failed ends the load early; the killer must not then wait (or start a replica) forever.
            loadOver.Cancel();
        }

        var (killedAt, restartedIn) = await killer;
        output.WriteLine($"load: {load.Elapsed.TotalSeconds:F1} s; replica 1 killed after {killedAt} acknowledged writes, ready again {restartedIn.TotalSeconds:F1} s later");

        // Vectors: every span in the database gets its one vector (a write clears the span's lease, and a second filler's
        // write of the same span matches no row), and every replica's /health comes to say so. A replica's figure is
        // the one its own filler last saw, refreshed when it stores a document or every 30 s, so it may lag the others.
        var vectorsDone = Stopwatch.StartNew();
        var (spans, withoutVector, leased) = await SpanCountsAsync();
        while (withoutVector > 0 && vectorsDone.Elapsed < TimeSpan.FromMinutes(3))
        {
            await Task.Delay(250);
            (spans, withoutVector, leased) = await SpanCountsAsync();
        }

        output.WriteLine($"vectors: spans {spans}, without a vector {withoutVector}, still leased {leased}, after {vectorsDone.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(0, withoutVector);
        Assert.Equal(0, leased);
        string expected = JsonSerializer.Serialize(new { done = spans, total = spans, complete = true });
        foreach (var slot in _slots)
        {
            await WaitForHealthAsync(slot!, expected, TimeSpan.FromMinutes(2));
        }

        output.WriteLine($"every replica's /health says {expected} after {vectorsDone.Elapsed.TotalSeconds:F1} s");

        // Sessions: one replay from every replica, byte for byte; each acknowledged message in it once; sequences 1..n.
        int lost = 0, duplicated = 0, gaps = 0, unacknowledged = 0;
        foreach (string session in sessions)
        {
            var replays = new List<string>();
            foreach (var slot in _slots)
            {
                replays.Add(await slot!.Client.GetStringAsync($"/v1/sessions/{session}/replay"));
            }

            Assert.Single(replays.Distinct(StringComparer.Ordinal));
            var messages = MessagesOf(replays[0]);
            var sequences = messages.Select(m => m.Sequence).Order().ToList();
            if (!sequences.SequenceEqual(Enumerable.Range(1, messages.Count).Select(n => (long)n)))
            {
                gaps++;
                output.WriteLine($"session {session}: sequences {string.Join(',', sequences)}");
            }

            duplicated += messages.Count - messages.Select(m => m.Id).Distinct().Count();
            duplicated += messages.Count - messages.Select(m => m.Content).Distinct(StringComparer.Ordinal).Count();
            var writes = _acknowledged.Where(a => a.Session == session).ToList();
            foreach (var write in writes)
            {
                var stored = messages.Where(m => m.Id == write.MessageId).ToList();
                if (stored.Count == 0)
                {
                    lost++;
                    output.WriteLine($"lost: {write}");
                }
                else
                {
                    Assert.Equal(write.Sequence, stored[0].Sequence);
                    Assert.Equal(write.Content, stored[0].Content);
                }
            }

            // Every client retried until acknowledged, so nothing may be stored that no client was told about.
            unacknowledged += messages.Count - writes.Select(w => w.MessageId).Distinct().Count();
        }

        // A retry of every acknowledged turn and message, with its key, through another replica: answered from the key.
        int replayedFromKey = 0;
        foreach (var write in _acknowledged.Where(a => a.Session is not null))
        {
            var other = _slots[(write.Replica + 1) % ReplicaCount]!.Client;
            using var retry = await other.SendAsync(write.Request());
            string body = await retry.Content.ReadAsStringAsync();
            Assert.True(retry.IsSuccessStatusCode, body);
            Assert.True(retry.Headers.TryGetValues("Idempotent-Replayed", out var replayed) && replayed.Single() == "true", $"{write.Key}: {body}");
            Assert.Equal(write.MessageId, MessageOf(write.Kind, body).Id);
            replayedFromKey++;
        }

        // Documents: each acknowledged PUT reads back exactly through every replica.
        int documentsMissing = 0;
        foreach (var put in _acknowledged.Where(a => a.Kind == "put"))
        {
            foreach (var slot in _slots)
            {
                using var got = await slot!.Client.GetAsync($"/v1/corpora/{Corpus}/documents/{put.Path}");
                if (got.StatusCode != HttpStatusCode.OK)
                {
                    documentsMissing++;
                    continue;
                }

                Assert.Equal(put.Content, (await got.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("text").GetString());
            }
        }

        var visibility = await PutToRetrievableAsync();
        int turns = _acknowledged.Count(a => a.Kind == "turn"), replies = _acknowledged.Count(a => a.Kind == "message"), puts = _acknowledged.Count(a => a.Kind == "put");
        output.WriteLine($"acknowledged writes: {_acknowledged.Count} (turns {turns}, assistant messages {replies}, document PUTs {puts}); " +
            $"acknowledged from a saved key during the load: {_acknowledged.Count(a => a.Replayed)}");
        output.WriteLine($"kills: 1; lost: {lost}; duplicated: {duplicated}; gaps: {gaps}; stored but never acknowledged: {unacknowledged}; documents missing: {documentsMissing}");
        output.WriteLine($"retries: {_retries} (connection errors {_connectionErrors}, 409s {_conflicts}, 5xx {_serverErrors}); retries with their keys answered from the key afterwards: {replayedFromKey}");
        output.WriteLine($"PUT to retrievable on another replica: {string.Join(", ", visibility.Select(v => $"{v.TotalMilliseconds:F0} ms"))}");
        output.WriteLine($"total: {total.Elapsed.TotalSeconds:F1} s");

        Assert.Equal(Clients * OperationsPerClient, _acknowledged.Count);
        Assert.Equal(0, lost);
        Assert.Equal(0, duplicated);
        Assert.Equal(0, gaps);
        Assert.Equal(0, unacknowledged);
        Assert.Equal(0, documentsMissing);
        _passed = true;
    }

    private async Task RunClientAsync(int client, IReadOnlyList<string> sessions)
    {
        // Each client's plan comes from its own seed, so a rerun issues the same writes in the same order per client; the
        // replicas it picks and its pauses come from another, so retries (which depend on timing) do not change the plan.
        var random = new Random(1700 + client);
        var routing = new Random(9100 + client);
        for (int op = 0; op < OperationsPerClient; op++)
        {
            string key = $"c{client}-op{op}";
            string topic = Topics[random.Next(Topics.Length)];
            double kind = random.NextDouble();
            Acknowledged write;
            if (kind < 0.5)
            {
                string session = sessions[random.Next(sessions.Count)];
                string content = $"client {client} operation {op}: how do {topic} work?";
                write = new Acknowledged("turn", key, session, $"/v1/sessions/{session}/turns", JsonSerializer.Serialize(new { message = content, totalBudget = 600 }), content);
            }
            else if (kind < 0.8)
            {
                string session = sessions[random.Next(sessions.Count)];
                string content = $"client {client} operation {op}: {topic} is explained in [1].";
                write = new Acknowledged("message", key, session, $"/v1/sessions/{session}/messages", JsonSerializer.Serialize(new { role = "assistant", content }), content);
            }
            else
            {
                string path = $"c{client}/op{op}.md";
                string text = $"# Note {client}-{op}\n\nClient {client} wrote this at operation {op} about {topic}.\n";
                write = new Acknowledged("put", null, null, $"/v1/corpora/{Corpus}/documents/{path}", JsonSerializer.Serialize(new { text, mediaType = "text/markdown" }), text) { Path = path };
            }

            _acknowledged.Add(await SendUntilAcknowledgedAsync(routing, write));
            Interlocked.Increment(ref _completed);
        }
    }

    private async Task<Acknowledged> SendUntilAcknowledgedAsync(Random random, Acknowledged write)
    {
        int avoid = -1;
        for (int attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            if (attempt > 1)
            {
                Interlocked.Increment(ref _retries);
                await Task.Delay(random.Next(50, 400));
            }

            // After a failure, another replica: the one that failed may be dead, and the retry must be safe anywhere.
            int replica;
            do
            {
                replica = random.Next(ReplicaCount);
            }
            while (replica == avoid);

            var slot = _slots[replica]!;
            try
            {
                using var response = await slot.Client.SendAsync(write.Request());
                string body = await response.Content.ReadAsStringAsync();
                if (response.IsSuccessStatusCode)
                {
                    bool replayed = response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Single() == "true";
                    if (write.Kind == "put")
                    {
                        return write with { Replica = replica };
                    }

                    var message = MessageOf(write.Kind, body);
                    return write with { Replica = replica, Replayed = replayed, MessageId = message.Id, Sequence = message.Sequence };
                }

                if (response.StatusCode == HttpStatusCode.Conflict)
                {
                    // Another replica appended after the history this turn read, or the key is in flight elsewhere.
                    Interlocked.Increment(ref _conflicts);
                }
                else if ((int)response.StatusCode >= 500)
                {
                    Interlocked.Increment(ref _serverErrors);
                    output.WriteLine($"{write.Key ?? write.Path} on {slot.Replica.Name}: {(int)response.StatusCode} {body}");
                }
                else
                {
                    Assert.Fail($"{write.Kind} {write.Key ?? write.Path} on {slot.Replica.Name}: {(int)response.StatusCode} {body}");
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                // The replica was killed under the request (or is not back yet): whether the write happened is unknown,
                // which is what the Idempotency-Key is for.
                Interlocked.Increment(ref _connectionErrors);
            }

            avoid = replica;
        }

        throw new InvalidOperationException($"{write.Kind} {write.Key ?? write.Path} was not acknowledged in {MaxAttempts} attempts.");
    }

    private async Task<(int KilledAt, TimeSpan RestartedIn)> KillAndRestartAsync(int victim, int after, CancellationToken loadOver)
    {
        while (Volatile.Read(ref _completed) < after)
        {
            await Task.Delay(50, loadOver);
        }

        int killedAt = Volatile.Read(ref _completed);
        var old = _slots[victim]!;
        old.Replica.Kill();
        // Its client stays undisposed until the end: clients that picked this slot before the swap still send through it.
        lock (_retired)
        {
            _retired.Add(old.Client);
        }
        var restarting = Stopwatch.StartNew();
        _slots[victim] = await StartReplicaAsync(victim, $"replica {victim} (restarted)");
        return (killedAt, restarting.Elapsed);
    }

    private async Task<List<TimeSpan>> PutToRetrievableAsync()
    {
        var times = new List<TimeSpan>();
        for (int k = 0; k < ReplicaCount; k++)
        {
            string word = $"quokkaborealis{k}";
            string path = $"visible/{word}.md";
            var writer = _slots[k]!.Client;
            var reader = _slots[(k + 1) % ReplicaCount]!.Client;
            var put = await writer.PutAsync($"/v1/corpora/{Corpus}/documents/{path}",
                new StringContent(JsonSerializer.Serialize(new { text = $"# {word}\n\nThe {word} keeps its own journal.\n", mediaType = "text/markdown" }), Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            var since = Stopwatch.StartNew();
            while (true)
            {
                var compiled = await reader.PostAsJsonAsync("/v1/compile", new { query = word, budget = 300, corpus = Corpus });
                string body = await compiled.Content.ReadAsStringAsync();
                if (compiled.IsSuccessStatusCode && body.Contains(path, StringComparison.Ordinal))
                {
                    times.Add(since.Elapsed);
                    break;
                }

                Assert.True(since.Elapsed < TimeSpan.FromMinutes(2), $"{path} was not cited through another replica within 2 minutes: {body}");
                await Task.Delay(20);
            }
        }

        return times;
    }

    private async Task<(long Spans, long WithoutVector, long Leased)> SpanCountsAsync()
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(pglite.ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*), count(*) FILTER (WHERE embedding IS NULL), count(*) FILTER (WHERE claimed_until IS NOT NULL) FROM spans", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    private async Task<Slot> StartReplicaAsync(int index, string name)
    {
        string log = Path.Combine(_logs, $"replica-{_started.Count}.log");
        output.WriteLine($"{name}: log {log}");
        var replica = await ReplicaProcess.StartAsync(name, pglite.ConnectionString, _corpus, log, StartTimeout);
        lock (_started)
        {
            _started.Add(replica);
        }

        var client = new HttpClient { BaseAddress = replica.BaseAddress, Timeout = TimeSpan.FromMinutes(3) };
        client.DefaultRequestHeaders.Add("X-Api-Key", ReplicaProcess.ApiKey);
        return new Slot(index, replica, client);
    }

    private static async Task<string> WaitForVectorsAsync(HttpClient client, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var health = JsonDocument.Parse(await client.GetStringAsync("/health"));
            var vectors = health.RootElement.GetProperty("vectors");
            if (vectors.GetProperty("complete").GetBoolean())
            {
                return vectors.GetRawText();
            }

            Assert.True(deadline.Elapsed < timeout, $"The vectors did not fill in within {timeout}: {vectors.GetRawText()}");
            await Task.Delay(250);
        }
    }

    private static async Task WaitForHealthAsync(Slot slot, string expected, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var health = JsonDocument.Parse(await slot.Client.GetStringAsync("/health"));
            string vectors = health.RootElement.GetProperty("vectors").GetRawText();
            if (vectors == expected)
            {
                return;
            }

            Assert.True(deadline.Elapsed < timeout, $"{slot.Replica.Name}'s /health said {vectors} for {timeout}, not {expected}.");
            await Task.Delay(500);
        }
    }

    private static StoredMessage MessageOf(string kind, string body)
    {
        using var json = JsonDocument.Parse(body);
        var message = kind == "turn" ? json.RootElement.GetProperty("userMessage") : json.RootElement;
        return StoredMessage.Of(message);
    }

    private static List<StoredMessage> MessagesOf(string replay)
    {
        using var json = JsonDocument.Parse(replay);
        var messages = new List<StoredMessage>();
        foreach (var turn in json.RootElement.GetProperty("turns").EnumerateArray())
        {
            foreach (string name in (string[])["userMessage", "assistantMessage"])
            {
                if (turn.GetProperty(name) is { ValueKind: JsonValueKind.Object } message)
                {
                    messages.Add(StoredMessage.Of(message));
                }
            }

            messages.AddRange(turn.GetProperty("extraMessages").EnumerateArray().Select(StoredMessage.Of));
        }

        return messages;
    }

    private static string CorpusCopy()
    {
        var folder = Directory.CreateTempSubdirectory("contextc-pg-replicas-").FullName;
        foreach (var file in CorpusFiles)
        {
            File.Copy(Path.Combine(Engine.Assets.RepositoryLayout.DefaultCorpus()!, file), Path.Combine(folder, file));
        }

        return folder;
    }

    public void Dispose()
    {
        foreach (var slot in _slots)
        {
            slot?.Client.Dispose();
        }

        lock (_retired)
        {
            _retired.ForEach(c => c.Dispose());
        }

        lock (_started)
        {
            foreach (var replica in _started)
            {
                replica.Dispose();
            }
        }

        try
        {
            Directory.Delete(_corpus, recursive: true);
            // The replicas' logs explain a failure, so only a passing run deletes them.
            if (_passed)
            {
                Directory.Delete(_logs, recursive: true);
            }
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }

    private sealed record Slot(int Index, ReplicaProcess Replica, HttpClient Client);

    private sealed record StoredMessage(string Id, long Sequence, string Content)
    {
        public static StoredMessage Of(JsonElement message) =>
            new(message.GetProperty("id").GetString()!, message.GetProperty("sequence").GetInt64(), message.GetProperty("content").GetString()!);
    }

    /// <summary>One write: what was sent (so that a retry sends the very same request) and, once a 2xx came, what it returned.</summary>
    private sealed record Acknowledged(string Kind, string? Key, string? Session, string Route, string Json, string Content)
    {
        public string? Path { get; init; }

        public int Replica { get; init; }

        public bool Replayed { get; init; }

        public string? MessageId { get; init; }

        public long Sequence { get; init; }

        public HttpRequestMessage Request()
        {
            var request = new HttpRequestMessage(Kind == "put" ? HttpMethod.Put : HttpMethod.Post, Route)
            {
                Content = new StringContent(Json, Encoding.UTF8, "application/json"),
            };
            if (Key is not null)
            {
                request.Headers.Add("Idempotency-Key", Key);
            }

            return request;
        }

        public override string ToString() => $"{Kind} {Key ?? Path} via replica {Replica}: {MessageId} #{Sequence}";
    }
}
