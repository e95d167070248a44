using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace ContextCompiler.Server.Tests;

/// <summary>
/// Runs the disconnect storm once for all disconnect tests, against the real server as a child process on Kestrel:
/// on each of <see cref="Sessions"/> sessions, rounds of two turns and an assistant message sent together, most of
/// them cancelled by the client after a random few milliseconds, plus a turn sent on a raw socket that is reset
/// after the whole request, or halfway through its body. The server keeps running for the tests.
/// </summary>
public sealed class DisconnectRun : IAsyncLifetime
{
    public const int Sessions = 6;
    public const int Rounds = 30;

    // Cancelling after 0 to this many milliseconds lands before sending, while queued on the session, during the
    // compile, during the write and after it, since a warm turn takes roughly 10 to 50 ms here.
    public const int MaxCancelMs = 80;

    private static readonly string[] Questions =
    [
        "How do I enable write-ahead logging?", "What does a checkpoint do?", "When is a transaction committed?",
        "How do savepoints nest?", "What does PRAGMA synchronous control?", "What is an IMMEDIATE transaction?",
    ];

    private readonly ConcurrentBag<AckedWrite> _acked = [];
    private readonly ConcurrentBag<CutOffWrite> _cutOff = [];
    private readonly ConcurrentBag<string> _unexpected = [];
    private int _requests;
    private int _hungUp;

    public int Seed { get; } = Environment.TickCount & int.MaxValue;

    public string Root { get; } = ServerProcess.NewDataFolder();

    public ServerProcess Server { get; private set; } = null!;

    public IReadOnlyList<string> SessionIds { get; private set; } = [];

    public IReadOnlyCollection<AckedWrite> Acked => _acked;

    /// <summary>Writes the client gave up on (cancelled or reset): each may be stored or not, but never in part.</summary>
    public IReadOnlyCollection<CutOffWrite> CutOff => _cutOff;

    /// <summary>Failures of requests the client did not cancel: any of them is a bug.</summary>
    public IReadOnlyCollection<string> Unexpected => _unexpected;

    public int Requests => _requests;

    public int HungUp => _hungUp;

    public TimeSpan StormTime { get; private set; }

    public async Task InitializeAsync()
    {
        Server = await ServerProcess.StartAsync(Root);
        var ids = new List<string>();
        for (int i = 0; i < Sessions; i++)
        {
            ids.Add(await Server.Client.CreateSession());
        }

        SessionIds = ids;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(SessionIds.Select((id, i) => Task.Run(() => SessionLoopAsync(id, new Random(Seed + i)))));
        await WaitForQuietAsync();
        StormTime = clock.Elapsed;
    }

    public Task DisposeAsync()
    {
        Server?.Dispose();
        ServerProcess.DeleteDataFolder(Root);
        return Task.CompletedTask;
    }

    private async Task SessionLoopAsync(string id, Random random)
    {
        for (int round = 0; round < Rounds; round++)
        {
            // Drawn here, not inside the tasks, because Random is not thread-safe.
            string tag = $"[{id[^6..]} round {round}]";
            var plans = Enumerable.Range(0, 3).Select(_ => (Cancel: random.Next(5) == 0 ? (int?)null : random.Next(MaxCancelMs), Question: Questions[random.Next(Questions.Length)])).ToList();
            bool wholeRequest = random.Next(2) == 0;
            await Task.WhenAll(
                TurnAsync(id, $"{tag} turn a: {plans[0].Question}", plans[0].Cancel),
                TurnAsync(id, $"{tag} turn b: {plans[1].Question}", plans[1].Cancel),
                AnswerAsync(id, $"{tag} answer", plans[2].Cancel),
                HangUpAsync(id, $"{tag} raw turn: {Questions[round % Questions.Length]}", wholeRequest));
        }
    }

    private async Task TurnAsync(string id, string question, int? cancelAfterMs)
    {
        var reply = await PostAsync($"/v1/sessions/{id}/turns", new { message = question, totalBudget = 800 }, HttpStatusCode.OK, new CutOffWrite("turn", id, question), cancelAfterMs);
        if (reply is { } turn)
        {
            var user = turn.GetProperty("userMessage");
            _acked.Add(new AckedWrite("turn", id, user.GetProperty("id").GetString(), user.GetProperty("sequence").GetInt64(), "user", question,
                turn.GetProperty("workingSet").GetRawText()));
        }
    }

    private async Task AnswerAsync(string id, string answer, int? cancelAfterMs)
    {
        var reply = await PostAsync($"/v1/sessions/{id}/messages", new { role = "assistant", content = answer }, HttpStatusCode.Created,
            new CutOffWrite("assistant", id, answer), cancelAfterMs);
        if (reply is { } message)
        {
            _acked.Add(new AckedWrite("assistant", id, message.GetProperty("id").GetString(), message.GetProperty("sequence").GetInt64(), "assistant", answer, null));
        }
    }

    private async Task<JsonElement?> PostAsync(string path, object body, HttpStatusCode expected, CutOffWrite pending, int? cancelAfterMs)
    {
        Interlocked.Increment(ref _requests);
        using var cancel = new CancellationTokenSource();
        if (cancelAfterMs is { } ms)
        {
            cancel.CancelAfter(ms);
        }

        try
        {
            using var response = await Server.Client.PostAsJsonAsync(path, body, cancel.Token);
            string text = await response.Content.ReadAsStringAsync(cancel.Token);
            if (response.StatusCode != expected)
            {
                _unexpected.Add($"POST {path} gave {(int)response.StatusCode}: {text}");
                return null;
            }

            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            _cutOff.Add(pending);
            return null;
        }
        catch (Exception e)
        {
            _unexpected.Add($"POST {path} failed without being cancelled: {e.GetType().Name}: {e.Message}");
            return null;
        }
    }

    // A client that dies mid-request: the request goes out whole or cut halfway through its body, then the socket is
    // reset (RST) without reading a byte of the reply.
    private async Task HangUpAsync(string id, string question, bool wholeRequest)
    {
        Interlocked.Increment(ref _requests);
        Interlocked.Increment(ref _hungUp);
        string body = JsonSerializer.Serialize(new { message = question, totalBudget = 800 });
        await SendAndResetAsync(Server.BaseAddress, $"/v1/sessions/{id}/turns", body, wholeRequest ? body.Length : body.Length / 2, TimeSpan.Zero);
        _cutOff.Add(new CutOffWrite(wholeRequest ? "raw turn" : "raw half turn", id, question));
    }

    /// <summary>
    /// Sends a JSON POST on a raw socket, but only its first <paramref name="bodyBytes"/> body bytes, waits
    /// <paramref name="pause"/>, then resets the connection.
    /// </summary>
    public static async Task SendAndResetAsync(Uri server, string path, string json, int bodyBytes, TimeSpan pause)
    {
        var body = Encoding.UTF8.GetBytes(json);
        var head = Encoding.ASCII.GetBytes(
            $"POST {path} HTTP/1.1\r\nHost: {server.Authority}\r\nX-Api-Key: {ServerProcess.ApiKey}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n");
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.Host, server.Port);
        await socket.SendAsync(head.Concat(body.Take(bodyBytes)).ToArray());
        await Task.Delay(pause);
        // Linger 0 makes Close send RST instead of FIN: the connection ends as abruptly as a crashed client's.
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
    }

    // Handlers of requests the client gave up on may still be compiling when the storm ends; the tests read a store
    // that no longer changes.
    private async Task WaitForQuietAsync()
    {
        long last = -1;
        int stable = 0;
        for (int i = 0; i < 100 && stable < 3; i++)
        {
            await Task.Delay(100);
            using var db = DatabaseFile.OpenReadOnly(Server.DatabasePath);
            long now = db.Scalar("SELECT COUNT(*) FROM messages");
            stable = now == last ? stable + 1 : 0;
            last = now;
        }
    }
}

/// <summary>
/// Client disconnects (issue 8, item 7): a client that cancels or drops its connection mid-turn leaves nothing
/// half-written, the session stays gapless and takes later turns normally.
/// </summary>
[Trait("Category", "Crash")]
public sealed class DisconnectTests(DisconnectRun run, ITestOutputHelper output) : IClassFixture<DisconnectRun>
{
    [Fact]
    public void A_turn_the_client_gave_up_on_is_stored_whole_or_not_at_all()
    {
        using var db = DatabaseFile.OpenReadOnly(run.Server.DatabasePath);
        var stored = db.Rows("SELECT m.content, m.role, w.json FROM messages m LEFT JOIN working_sets w ON w.message_id = m.id")
            .ToLookup(r => (string)r[0], r => (Role: (string)r[1], WorkingSet: r[2] as string));
        var turns = run.CutOff.Where(c => c.Kind != "assistant").ToList();
        int kept = turns.Count(t => stored.Contains(t.Content!));
        var torn = stored.SelectMany(m => m, (m, v) => (Content: m.Key, v.Role, v.WorkingSet)).Where(m => m.Role == "user" && m.WorkingSet is null).ToList();

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"client disconnects: {run.Requests} writes on {DisconnectRun.Sessions} sessions, {run.Acked.Count} acknowledged, {run.CutOff.Count} given up by the client " +
            $"({run.CutOff.Count - run.HungUp} cancelled after 0-{DisconnectRun.MaxCancelMs} ms, {run.HungUp} reset on a raw socket); of {turns.Count} turns given up, " +
            $"{kept} stored whole, {turns.Count - kept} absent, {torn.Count} torn; {run.Acked.Count(a => !stored.Contains(a.Content!))} acknowledged lost; " +
            $"storm {run.StormTime.TotalSeconds:F1} s, seed {run.Seed}"));
        // Both outcomes must occur, or the cancellations all landed on one side of the write and tested only that side.
        Assert.True(kept > 0 && kept < turns.Count, $"Of {turns.Count} turns given up, {kept} were stored: the disconnects missed the write.");
        Assert.Empty(torn);
        Assert.Equal(0, db.Scalar("SELECT COUNT(*) FROM working_sets w WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = w.message_id AND m.role = 'user')"));
        // Each storm message text is unique, so a turn given up on is stored once, as a user message, or not at all.
        Assert.All(turns.Where(t => stored.Contains(t.Content!)), t => Assert.Equal(["user"], stored[t.Content!].Select(m => m.Role)));
    }

    [Fact]
    public void Writes_the_client_gave_up_on_leave_every_session_gapless()
    {
        using var db = DatabaseFile.OpenReadOnly(run.Server.DatabasePath);
        foreach (var session in run.SessionIds)
        {
            var sequences = db.Rows("SELECT sequence FROM messages WHERE session_id = $id ORDER BY sequence", ("$id", session)).Select(r => (long)r[0]).ToList();
            Assert.Equal(Enumerable.Range(1, sequences.Count).Select(i => (long)i), sequences);
            Assert.Equal(sequences.Count, db.Scalar("SELECT message_count FROM sessions WHERE id = $id", ("$id", session)));
        }
    }

    [Fact]
    public void Every_acknowledged_write_among_the_disconnects_is_stored_as_acknowledged()
    {
        Assert.NotEmpty(run.Acked);
        using var db = DatabaseFile.OpenReadOnly(run.Server.DatabasePath);
        var stored = db.Rows("SELECT m.id, m.session_id, m.sequence, m.content, w.json FROM messages m LEFT JOIN working_sets w ON w.message_id = m.id")
            .ToDictionary(r => (string)r[0], r => (Session: (string)r[1], Sequence: (long)r[2], Content: (string)r[3], WorkingSet: r[4] as string));
        Assert.All(run.Acked, a => Assert.Equal((a.SessionId, a.Sequence, a.Content!, a.WorkingSet), stored.GetValueOrDefault(a.MessageId!)));
    }

    [Fact]
    public void The_server_answered_every_request_the_client_did_not_give_up_on()
    {
        Assert.Empty(run.Unexpected);
    }

    [Fact]
    public async Task Sessions_take_turns_normally_after_their_clients_disconnected()
    {
        foreach (var session in run.SessionIds)
        {
            var turn = await run.Server.Client.Turn(session, $"After the disconnects, on {session}: what does a checkpoint do?", new { totalBudget = 800 });
            await run.Server.Client.Say(session, "assistant", "It copies the WAL back into the database.");
            using var response = await run.Server.Client.GetAsync($"/v1/sessions/{session}/replay");
            var last = (await response.Json()).GetProperty("turns").EnumerateArray().Last();
            Assert.Equal(turn.GetProperty("userMessage").GetProperty("id").GetString(), last.GetProperty("userMessage").GetProperty("id").GetString());
            Assert.Equal(turn.GetProperty("workingSet").GetRawText(), last.GetProperty("workingSet").GetRawText());
            Assert.Equal(turn.GetProperty("userMessage").GetProperty("sequence").GetInt64() + 1, last.GetProperty("assistantMessage").GetProperty("sequence").GetInt64());
        }
    }

    [Fact]
    public async Task A_turn_whose_body_is_cut_off_mid_stream_stores_nothing()
    {
        var client = run.Server.Client;
        var session = await client.CreateSession();
        string body = JsonSerializer.Serialize(new { message = "A question whose body never arrives whole", totalBudget = 800 });
        // The pause lets the server start reading the body before the reset, so the reset lands mid-request.
        await DisconnectRun.SendAndResetAsync(run.Server.BaseAddress, $"/v1/sessions/{session}/turns", body, body.Length / 2, TimeSpan.FromMilliseconds(200));

        var turn = await client.Turn(session, "The next question arrives whole", new { totalBudget = 800 });
        Assert.Equal(1, turn.GetProperty("userMessage").GetProperty("sequence").GetInt64());
        using var response = await client.GetAsync($"/v1/sessions/{session}/replay");
        var replay = await response.Json();
        Assert.Equal(1, replay.GetProperty("session").GetProperty("messageCount").GetInt32());
        Assert.Equal(["The next question arrives whole"], replay.GetProperty("turns").EnumerateArray().Select(t => t.GetProperty("userMessage").GetProperty("content").GetString()));
    }
}
