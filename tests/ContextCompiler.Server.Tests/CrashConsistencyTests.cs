using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace ContextCompiler.Server.Tests;

/// <summary>A write the client saw acknowledged (2xx with the whole body), as the server described it then.</summary>
/// <param name="WorkingSet">A turn's working set exactly as the reply carried it; null for session and assistant writes.</param>
public sealed record AckedWrite(string Kind, string SessionId, string? MessageId, long Sequence, string? Role, string? Content, string? WorkingSet);

/// <summary>A write whose reply never came because the server was killed: it may or may not be stored, but never torn.</summary>
public sealed record CutOffWrite(string Kind, string? SessionId, string? Content);

/// <summary>
/// Runs the storm once for all crash tests: the real server as a child process, <see cref="Clients"/> clients taking
/// turns and adding answers on their own sessions, SIGKILLed <see cref="Kills"/> times at random moments and restarted
/// on the same file each time. The last restart is kept running for the tests, which check what it recovered.
/// </summary>
public sealed class CrashRun : IAsyncLifetime
{
    public const int Kills = 5;
    public const int Clients = 8;

    // A client moves to a new session after this many turns, so that session creation is also cut off by kills.
    private const int TurnsPerSession = 6;

    private static readonly string[] Questions =
    [
        "How do I enable write-ahead logging?", "What does a checkpoint do in WAL mode?", "When is a transaction committed?",
        "How do savepoints nest?", "What does PRAGMA synchronous control?", "Can readers block writers in WAL mode?",
        "What is an IMMEDIATE transaction?", "How large can the WAL file grow?", "What does PRAGMA busy_timeout do?",
    ];

    private readonly ConcurrentBag<AckedWrite> _acked = [];
    private readonly ConcurrentBag<CutOffWrite> _cutOff = [];
    private readonly ConcurrentBag<string> _unexpected = [];
    private readonly ConcurrentBag<PendingWrite> _retried = [];
    private int _answeredFromKey;

    /// <summary>Seeds the kill moments and the clients' choices; printed so a failing run can be told apart.</summary>
    public int Seed { get; } = Environment.TickCount & int.MaxValue;

    public string Root { get; } = ServerProcess.NewDataFolder();

    /// <summary>The server restarted after the last kill.</summary>
    public ServerProcess Server { get; private set; } = null!;

    public int KillsDone { get; private set; }

    /// <summary>Acknowledged writes of each round, one entry per kill.</summary>
    public List<int> AckedPerRound { get; } = [];

    public IReadOnlyCollection<AckedWrite> Acked => _acked;

    public IReadOnlyCollection<CutOffWrite> CutOff => _cutOff;

    /// <summary>Writes cut off by a kill and then sent again, with the same Idempotency-Key, after the restart.</summary>
    public IReadOnlyCollection<PendingWrite> Retried => _retried;

    /// <summary>Retries answered from their saved key: the write had committed before the kill cut off its reply.</summary>
    public int AnsweredFromKey => _answeredFromKey;

    /// <summary>Failures of a server that was still alive: any of them is a bug, not an effect of the kills.</summary>
    public IReadOnlyCollection<string> Unexpected => _unexpected;

    /// <summary>From the first start to the restarted server being healthy after the last kill.</summary>
    public TimeSpan StormTime { get; private set; }

    public async Task InitializeAsync()
    {
        var random = new Random(Seed);
        var clients = Enumerable.Range(0, Clients).Select(i => new ClientState(i, new Random(Seed + i + 1))).ToList();
        var clock = Stopwatch.StartNew();
        for (int round = 0; round < Kills; round++)
        {
            using var server = await ServerProcess.StartAsync(Root);
            using var kill = new CancellationTokenSource();
            int before = _acked.Count;
            var running = clients.Select(c => Task.Run(() => ClientLoopAsync(server.Client, c, kill.Token))).ToList();

            // Each round first gets some writes through (a cold start on a busy machine can take seconds to answer the
            // first), then runs for a random while more, short enough for the whole run to stay near a minute.
            var warmUp = Stopwatch.StartNew();
            while (_acked.Count - before < Clients && warmUp.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(20);
            }

            await Task.Delay(random.Next(0, 1500));
            kill.Cancel();
            server.Kill();
            KillsDone++;
            await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(60));
            AckedPerRound.Add(_acked.Count - before);
        }

        Server = await ServerProcess.StartAsync(Root);
        // The writes cut off by the last kill are retried too, as their clients would.
        await Task.WhenAll(clients.Where(c => c.Pending is not null).Select(async c =>
        {
            var retry = c.Pending!;
            if (await WriteAsync(Server.Client, c, retry, CancellationToken.None))
            {
                _retried.Add(retry);
            }
        }));
        StormTime = clock.Elapsed;
    }

    public Task DisposeAsync()
    {
        Server?.Dispose();
        ServerProcess.DeleteDataFolder(Root);
        return Task.CompletedTask;
    }

    /// <summary>Sessions the clients were told exist.</summary>
    public IEnumerable<string> AckedSessions => _acked.Where(w => w.Kind == "session").Select(w => w.SessionId).Distinct();

    // Writes until the round is killed. A failed request is expected only once the kill has been ordered: the flag is
    // set before the SIGKILL, so an error seen with it unset came from a live server. Every write carries an
    // Idempotency-Key; a write cut off by a kill is sent again, with the same key and body, first thing after the restart,
    // as a client that lost its connection would.
    private async Task ClientLoopAsync(HttpClient http, ClientState client, CancellationToken killed)
    {
        while (!killed.IsCancellationRequested)
        {
            if (client.Pending is { } retry)
            {
                if (!await WriteAsync(http, client, retry, killed))
                {
                    return;
                }

                _retried.Add(retry);
                continue;
            }

            if (client.Session is null || client.TurnsInSession >= TurnsPerSession)
            {
                client.Session = null;
                string user = $"client-{client.Index}-session-{++client.Writes}";
                if (!await WriteAsync(http, client, new PendingWrite("session", null, "/v1/sessions", new { userId = user }, user, HttpStatusCode.Created), killed))
                {
                    return;
                }
            }

            string id = client.Session!;
            string question = $"[client {client.Index} write {++client.Writes}] {Questions[client.Random.Next(Questions.Length)]}";
            int budget = client.Random.Next(300, 1500);
            if (!await WriteAsync(http, client, new PendingWrite("turn", id, $"/v1/sessions/{id}/turns", new { message = question, totalBudget = budget }, question, HttpStatusCode.OK), killed))
            {
                return;
            }

            string answer = $"[client {client.Index} write {++client.Writes}] An answer of {client.Random.Next(1, 400)} words.";
            if (!await WriteAsync(http, client, new PendingWrite("assistant", id, $"/v1/sessions/{id}/messages", new { role = "assistant", content = answer }, answer, HttpStatusCode.Created), killed))
            {
                return;
            }
        }
    }

    // Sends the write and records its acknowledgement; false when the round is over for this client. A write cut off by
    // the kill stays pending on the client, to be retried with the same key.
    private async Task<bool> WriteAsync(HttpClient http, ClientState client, PendingWrite write, CancellationToken killed)
    {
        client.Pending = write;
        var reply = await PostAsync(http, write, killed);
        if (reply is not { } json)
        {
            return false;
        }

        client.Pending = null;
        switch (write.Kind)
        {
            case "session":
                client.Session = json.GetProperty("id").GetString()!;
                client.TurnsInSession = 0;
                _acked.Add(new AckedWrite("session", client.Session, null, 0, null, write.Content, null));
                break;
            case "turn":
                client.TurnsInSession++;
                var user = json.GetProperty("userMessage");
                _acked.Add(new AckedWrite("turn", write.SessionId!, user.GetProperty("id").GetString(), user.GetProperty("sequence").GetInt64(), "user",
                    write.Content, json.GetProperty("workingSet").GetRawText()));
                break;
            default:
                _acked.Add(new AckedWrite("assistant", write.SessionId!, json.GetProperty("id").GetString(), json.GetProperty("sequence").GetInt64(), "assistant", write.Content, null));
                break;
        }

        return true;
    }

    // The body is read whole before the write counts as acknowledged: a reply cut off halfway is no acknowledgement.
    private async Task<JsonElement?> PostAsync(HttpClient http, PendingWrite write, CancellationToken killed)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, write.Path) { Content = JsonContent.Create(write.Body) };
            request.Headers.Add("Idempotency-Key", write.Key);
            using var response = await http.SendAsync(request);
            string text = await response.Content.ReadAsStringAsync();
            if (response.Headers.Contains("Idempotent-Replayed"))
            {
                // Only a retry can be answered from its key: the write had been committed before the kill cut off its reply.
                Interlocked.Increment(ref _answeredFromKey);
            }

            if (response.StatusCode != write.Expected)
            {
                _unexpected.Add($"POST {write.Path} gave {(int)response.StatusCode}: {text}");
                return null;
            }

            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (Exception) when (killed.IsCancellationRequested)
        {
            _cutOff.Add(new CutOffWrite(write.Kind, write.SessionId, write.Content));
            return null;
        }
        catch (Exception e)
        {
            _unexpected.Add($"POST {write.Path} failed before the kill: {e.GetType().Name}: {e.Message}");
            return null;
        }
    }

    /// <summary>One write as the client sends it, and sends it again after a kill: same key, same body.</summary>
    /// <param name="Content">What identifies the write in the database: the message text, or the new session's userId.</param>
    public sealed record PendingWrite(string Kind, string? SessionId, string Path, object Body, string Content, HttpStatusCode Expected)
    {
        public string Key { get; } = Guid.NewGuid().ToString();
    }

    private sealed class ClientState(int index, Random random)
    {
        public int Index { get; } = index;

        public Random Random { get; } = random;

        public string? Session { get; set; }

        public PendingWrite? Pending { get; set; }

        public int TurnsInSession { get; set; }

        public int Writes { get; set; }
    }
}

/// <summary>
/// Crash consistency (issue 8, item 8): after repeated SIGKILLs of the real server under concurrent turns, every
/// acknowledged write is stored as acknowledged, no turn is torn, sequences are gapless and the file is intact.
/// </summary>
[Trait("Category", "Crash")]
public sealed class CrashConsistencyTests(CrashRun run, ITestOutputHelper output) : IClassFixture<CrashRun>
{
    [Fact]
    public void No_acknowledged_write_is_lost_across_repeated_kill_9()
    {
        Assert.Equal(CrashRun.Kills, run.KillsDone);
        // Every round must have written something, or a kill would have hit an idle server and tested nothing.
        Assert.All(run.AckedPerRound, count => Assert.True(count > 0, "A round acknowledged no write: " + string.Join(", ", run.AckedPerRound)));

        using var db = DatabaseFile.OpenReadOnly(run.Server.DatabasePath);
        var messages = db.Rows("SELECT id, session_id, sequence, role, content FROM messages")
            .ToDictionary(r => (string)r[0], r => (Session: (string)r[1], Sequence: (long)r[2], Role: (string)r[3], Content: (string)r[4]));
        var sessions = db.Rows("SELECT id FROM sessions").Select(r => (string)r[0]).ToHashSet();

        var lost = new List<string>();
        foreach (var write in run.Acked)
        {
            bool kept = write.Kind == "session"
                ? sessions.Contains(write.SessionId)
                : messages.TryGetValue(write.MessageId!, out var m) && m == (write.SessionId, write.Sequence, write.Role!, write.Content!);
            if (!kept)
            {
                lost.Add(write.ToString());
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"crash consistency: {run.KillsDone} kills (SIGKILL), {CrashRun.Clients} clients, {run.Acked.Count} acknowledged writes " +
            $"({run.Acked.Count(w => w.Kind == "session")} sessions, {run.Acked.Count(w => w.Kind == "turn")} turns, {run.Acked.Count(w => w.Kind == "assistant")} assistant messages; " +
            $"per round {string.Join("/", run.AckedPerRound)}), {lost.Count} lost, {run.CutOff.Count} cut off by a kill, {run.Retried.Count} retried " +
            $"with the same Idempotency-Key after the restart ({run.AnsweredFromKey} had committed before the kill and were answered from the key), " +
            $"storm {run.StormTime.TotalSeconds:F1} s, seed {run.Seed}"));
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged writes are missing or changed:\n{string.Join('\n', lost.Take(20))}");
    }

    [Fact]
    public async Task Every_acknowledged_turn_replays_with_the_working_set_it_returned()
    {
        var turns = run.Acked.Where(w => w.Kind == "turn").ToList();
        Assert.NotEmpty(turns);
        var replayed = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var session in turns.Select(t => t.SessionId).Distinct())
        {
            using var response = await run.Server.Client.GetAsync($"/v1/sessions/{session}/replay");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            foreach (var turn in (await response.Json()).GetProperty("turns").EnumerateArray())
            {
                if (turn.GetProperty("userMessage") is { ValueKind: JsonValueKind.Object } user)
                {
                    var workingSet = turn.GetProperty("workingSet");
                    replayed[user.GetProperty("id").GetString()!] = workingSet.ValueKind == JsonValueKind.Null ? null : workingSet.GetRawText();
                }
            }
        }

        Assert.All(turns, t => Assert.True(replayed.TryGetValue(t.MessageId!, out var json) && json == t.WorkingSet,
            $"Turn {t.MessageId} of session {t.SessionId} does not replay with the working set it returned."));
    }

    [Fact]
    public void No_user_message_lacks_its_working_set()
    {
        using var db = DatabaseFile.OpenReadOnly(run.Server.DatabasePath);
        Assert.True(db.Scalar("SELECT COUNT(*) FROM messages WHERE role = 'user'") > 0);
        Assert.Equal(0, db.Scalar("SELECT COUNT(*) FROM messages m WHERE m.role = 'user' AND NOT EXISTS (SELECT 1 FROM working_sets w WHERE w.message_id = m.id)"));
        Assert.Equal(0, db.Scalar("SELECT COUNT(*) FROM working_sets w WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = w.message_id AND m.role = 'user')"));
        Assert.Equal(0, db.Scalar("SELECT COUNT(*) FROM working_sets WHERE json_valid(json) = 0"));
    }

    [Fact]
    public void Every_session_numbers_its_messages_from_one_without_gaps()
    {
        using var db = DatabaseFile.OpenReadOnly(run.Server.DatabasePath);
        var sequences = db.Rows("SELECT session_id, sequence FROM messages ORDER BY session_id, sequence")
            .GroupBy(r => (string)r[0], r => (long)r[1]).ToDictionary(g => g.Key, g => g.ToList());
        var counts = db.Rows("SELECT id, message_count FROM sessions").ToDictionary(r => (string)r[0], r => (long)r[1]);
        Assert.NotEmpty(sequences);
        foreach (var (session, count) in counts)
        {
            var stored = sequences.GetValueOrDefault(session) ?? [];
            Assert.Equal(Enumerable.Range(1, stored.Count).Select(i => (long)i), stored);
            // message_count is updated in the same transaction as the insert, so it must match exactly.
            Assert.Equal(stored.Count, count);
        }
    }

    [Fact]
    public void The_database_passes_integrity_and_foreign_key_checks()
    {
        using var db = DatabaseFile.OpenReadOnly(run.Server.DatabasePath);
        Assert.Equal(["ok"], db.Rows("PRAGMA integrity_check").Select(r => (string)r[0]));
        Assert.Empty(db.Rows("PRAGMA foreign_key_check"));
    }

    [Fact]
    public void A_write_cut_off_by_a_kill_and_retried_with_its_key_is_stored_exactly_once()
    {
        Assert.NotEmpty(run.Retried);
        using var db = DatabaseFile.OpenReadOnly(run.Server.DatabasePath);
        foreach (var write in run.Retried)
        {
            long stored = write.Kind == "session"
                ? db.Scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $c", ("$c", write.Content))
                : db.Scalar("SELECT COUNT(*) FROM messages WHERE content = $c", ("$c", write.Content));
            Assert.True(stored == 1, $"The retried {write.Kind} '{write.Content}' is stored {stored} times.");
        }

        output.WriteLine($"retried after a kill with the same Idempotency-Key: {run.Retried.Count} writes, each stored once");
    }

    [Fact]
    public void A_live_server_answered_every_request_with_success()
    {
        Assert.Empty(run.Unexpected);
    }

    [Fact]
    public async Task The_restarted_server_takes_the_next_turn_on_every_session()
    {
        var sessions = run.AckedSessions.ToList();
        Assert.NotEmpty(sessions);
        using var db = DatabaseFile.OpenReadOnly(run.Server.DatabasePath);
        foreach (var session in sessions)
        {
            long last = db.Scalar("SELECT COALESCE(MAX(sequence), 0) FROM messages WHERE session_id = $id", ("$id", session));
            var turn = await run.Server.Client.Turn(session, "After the restart: how do I enable write-ahead logging?", new { totalBudget = 600 });
            Assert.Equal(last + 1, turn.GetProperty("userMessage").GetProperty("sequence").GetInt64());
            Assert.Equal(JsonValueKind.Object, turn.GetProperty("workingSet").ValueKind);
        }
    }
}
