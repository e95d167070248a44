using System.Net.Http.Json;
using System.Text.Json;

namespace ContextCompiler.Benchmarks.Load;

/// <summary>How simulated chats talk to the server.</summary>
/// <param name="Message">The user's message from a question, the chat's number and the turn's counter.</param>
/// <param name="Reply">The assistant's reply posted after each turn, from the user's message, the chat's number and the turn's counter; null for none.</param>
/// <param name="Budget">Each turn's <c>totalBudget</c>.</param>
/// <param name="TurnsPerSession">Turns after which a chat closes its session and starts a new one.</param>
/// <param name="IdempotencyKeys">Whether every turn and reply carries a fresh Idempotency-Key.</param>
/// <param name="Users">Prefix of the chats' user ids (<c>{Users}-{chat}</c>).</param>
internal sealed record ChatScript(
    Func<string, int, long, string> Message,
    Func<string, int, long, string>? Reply,
    int Budget = 2000,
    int TurnsPerSession = int.MaxValue,
    bool IdempotencyKeys = false,
    string Users = "load");

/// <summary>
/// One simulated user's chat with the server: one session at a time, turns and the assistant's replies posted to it, and
/// after <see cref="ChatScript.TurnsPerSession"/> turns the session closed and a new one started, the way real chats end,
/// so that a long run does not grow single sessions to thousands of turns. Failures are counted in an
/// <see cref="ErrorTally"/>, not thrown, except cancellation by the caller's token. Not thread-safe: one request at a time,
/// as a chatbot sends them.
/// </summary>
internal sealed class ChatSession
{
    private readonly Func<HttpClient> _http;
    private readonly string _user;
    private readonly ChatScript _script;
    private readonly ErrorTally _errors;
    private string? _id;
    private int _turns;

    private ChatSession(Func<HttpClient> http, string user, ChatScript script, ErrorTally errors)
    {
        _http = http;
        _user = user;
        _script = script;
        _errors = errors;
    }

    /// <summary>Sessions this chat has started so far.</summary>
    public int Sessions { get; private set; }

    /// <summary>
    /// Starts chat <paramref name="number"/> with its first session; each request goes to the client <paramref name="http"/>
    /// returns then. Throws if the session cannot be created: a run that cannot start should stop.
    /// </summary>
    public static async Task<ChatSession> StartAsync(Func<HttpClient> http, int number, ChatScript script, ErrorTally errors, CancellationToken cancellationToken = default)
    {
        var chat = new ChatSession(http, $"{script.Users}-{number}", script, errors);
        using var created = await http().PostAsJsonAsync("/v1/sessions", new { userId = chat._user }, cancellationToken);
        created.EnsureSuccessStatusCode();
        chat._id = await SessionId(created, cancellationToken);
        chat.Sessions = 1;
        return chat;
    }

    /// <summary>Takes a turn with <paramref name="message"/>, reading the whole reply; false when it failed.</summary>
    public async Task<bool> TurnAsync(string message, CancellationToken cancellationToken = default)
    {
        if (_id is null && !await CreateAsync(cancellationToken))
        {
            return false;
        }

        _turns++;
        return await SendAsync("turn", $"/v1/sessions/{_id}/turns", new { message, totalBudget = _script.Budget }, cancellationToken);
    }

    /// <summary>Posts the assistant's <paramref name="content"/>; false when it failed.</summary>
    public Task<bool> ReplyAsync(string content, CancellationToken cancellationToken = default) =>
        _id is null ? Task.FromResult(false) : SendAsync("reply", $"/v1/sessions/{_id}/messages", new { role = "assistant", content }, cancellationToken);

    /// <summary>After the script's turns per session: closes this session and starts the next (the next turn retries a failed start).</summary>
    public async Task RotateIfDueAsync(CancellationToken cancellationToken = default)
    {
        if (_id is null || _turns < _script.TurnsPerSession)
        {
            return;
        }

        await SendAsync("close", $"/v1/sessions/{_id}/close", null, cancellationToken);
        _id = null;
        _turns = 0;
        await CreateAsync(cancellationToken);
    }

    private async Task<bool> CreateAsync(CancellationToken cancellationToken)
    {
        using var created = await _errors.SendAsync("create", () => _http().PostAsJsonAsync("/v1/sessions", new { userId = _user }, cancellationToken), cancellationToken);
        if (created is null)
        {
            return false;
        }

        _id = await SessionId(created, cancellationToken);
        Sessions++;
        return true;
    }

    private async Task<bool> SendAsync(string what, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (_script.IdempotencyKeys && body is not null)
        {
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        }

        // SendAsync returns once the whole body is read (ResponseContentRead), as a chatbot needs it before it can prompt its model.
        using var response = await _errors.SendAsync(what, () => _http().SendAsync(request, cancellationToken), cancellationToken);
        return response is not null;
    }

    private static async Task<string> SessionId(HttpResponseMessage created, CancellationToken cancellationToken) =>
        (await created.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("id").GetString()!;
}
