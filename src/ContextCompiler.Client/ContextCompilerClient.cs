using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace ContextCompiler.Client;

/// <summary>
/// <see cref="IContextCompilerClient"/> over a typed <see cref="HttpClient"/>. Register it with
/// <c>services.AddContextCompilerClient(baseAddress, apiKey)</c>,
/// which sets the base address and API key and adds the retry pipeline.
/// </summary>
public sealed class ContextCompilerClient(HttpClient http) : IContextCompilerClient
{
    /// <summary>The request header that makes a write safe to retry.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>The response header the service sets when it answers a repeated write from its stored response.</summary>
    public const string IdempotentReplayedHeader = "Idempotent-Replayed";

    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json") { CharSet = "utf-8" };

    /// <inheritdoc />
    public Task<WorkingSet> CompileAsync(CompileRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<WorkingSet>(HttpMethod.Post, "v1/compile", Required(request), idempotencyKey: null, cancellationToken);

    /// <inheritdoc />
    public Task<Session> CreateSessionAsync(CreateSessionRequest? request = null, CancellationToken cancellationToken = default)
    {
        request ??= new CreateSessionRequest();
        return SendAsync<Session>(HttpMethod.Post, "v1/sessions", request, KeyFor(request.IdempotencyKey), cancellationToken);
    }

    /// <inheritdoc />
    public Task<SessionPage> ListSessionsAsync(SessionQuery? query = null, CancellationToken cancellationToken = default) =>
        SendAsync<SessionPage>(HttpMethod.Get, "v1/sessions" + QueryString(query), body: null, idempotencyKey: null, cancellationToken);

    /// <inheritdoc />
    public Task<Session> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        SendAsync<Session>(HttpMethod.Get, SessionPath(sessionId), body: null, idempotencyKey: null, cancellationToken);

    /// <inheritdoc />
    public Task<Session> CloseSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        SendAsync<Session>(HttpMethod.Post, SessionPath(sessionId) + "/close", body: null, idempotencyKey: null, cancellationToken);

    /// <inheritdoc />
    public Task DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, SessionPath(sessionId), cancellationToken);

    /// <inheritdoc />
    public Task<TurnResponse> TakeTurnAsync(string sessionId, TurnRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<TurnResponse>(HttpMethod.Post, SessionPath(sessionId) + "/turns", Required(request), KeyFor(request.IdempotencyKey), cancellationToken);

    /// <inheritdoc />
    public Task<Message> AddMessageAsync(string sessionId, AddMessageRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<Message>(HttpMethod.Post, SessionPath(sessionId) + "/messages", Required(request), KeyFor(request.IdempotencyKey), cancellationToken);

    /// <inheritdoc />
    public Task<HistoryWindow> GetHistoryAsync(string sessionId, int? maxTokens = null, bool skipOversized = false, CancellationToken cancellationToken = default)
    {
        var query = new List<string>();
        if (maxTokens is { } max)
        {
            query.Add("maxTokens=" + max.ToString(CultureInfo.InvariantCulture));
        }

        if (skipOversized)
        {
            query.Add("skipOversized=true");
        }

        return SendAsync<HistoryWindow>(HttpMethod.Get, SessionPath(sessionId) + "/history" + Join(query), body: null, idempotencyKey: null, cancellationToken);
    }

    /// <inheritdoc />
    public Task<SessionReplay> ReplayAsync(string sessionId, CancellationToken cancellationToken = default) =>
        SendAsync<SessionReplay>(HttpMethod.Get, SessionPath(sessionId) + "/replay", body: null, idempotencyKey: null, cancellationToken);

    /// <inheritdoc />
    public Task<SessionUsage> GetUsageAsync(string sessionId, int? historyBudget = null, CancellationToken cancellationToken = default)
    {
        string query = historyBudget is { } budget ? "?historyBudget=" + budget.ToString(CultureInfo.InvariantCulture) : string.Empty;
        return SendAsync<SessionUsage>(HttpMethod.Get, SessionPath(sessionId) + "/usage" + query, body: null, idempotencyKey: null, cancellationToken);
    }

    // No Idempotency-Key: the service's compaction is idempotent by itself, since a retry finds nothing left to fold.
    /// <inheritdoc />
    public Task<CompactionOutcome> CompactAsync(string sessionId, int? historyBudget = null, CancellationToken cancellationToken = default) =>
        SendAsync<CompactionOutcome>(HttpMethod.Post, SessionPath(sessionId) + "/compact", new CompactBody(historyBudget), idempotencyKey: null, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<Compaction>> ListCompactionsAsync(string sessionId, CancellationToken cancellationToken = default) =>
        SendAsync<IReadOnlyList<Compaction>>(HttpMethod.Get, SessionPath(sessionId) + "/compactions", body: null, idempotencyKey: null, cancellationToken);

    /// <inheritdoc />
    public Task<RecompileReport> RecompileAsync(string sessionId, RecompileRequest? request = null, CancellationToken cancellationToken = default) =>
        SendAsync<RecompileReport>(HttpMethod.Post, SessionPath(sessionId) + "/replay/recompile", request ?? new RecompileRequest(), idempotencyKey: null, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<CorpusInfo>> ListCorporaAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync<CorpusList>(HttpMethod.Get, "v1/corpora", body: null, idempotencyKey: null, cancellationToken).ConfigureAwait(false)).Items;

    // No Idempotency-Key: a retried create whose answer was lost gets a 409 for the corpus it made, which names the outcome.
    /// <inheritdoc />
    public Task<CorpusInfo> CreateCorpusAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return SendAsync<CorpusInfo>(HttpMethod.Post, "v1/corpora", new { name }, idempotencyKey: null, cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteCorpusAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, CorpusPath(name), cancellationToken);

    // The resilience handler retries this PUT like any other request, and that is safe without an Idempotency-Key: a PUT
    // is idempotent by nature. A retry of one that was stored finds the same content and answers 200, changed false.
    /// <inheritdoc />
    public async Task<DocumentWrite> PutDocumentAsync(string corpus, string path, string text, string? mediaType = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        string route = DocumentPath(corpus, path);
        if (mediaType is null)
        {
            // The raw form needs a Content-Type, and any one sent would be stored as the document's; JSON without a
            // mediaType leaves it unset, so the path's extension decides as the caller asked.
            return await SendAsync<DocumentWrite>(HttpMethod.Put, route, new { text }, idempotencyKey: null, cancellationToken).ConfigureAwait(false);
        }

        // The raw text, not JSON: nothing is escaped, so the body is no larger than the document the service limits.
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType) { CharSet = "utf-8" };
        return await SendAsync<DocumentWrite>(HttpMethod.Put, route, content, idempotencyKey: null, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<StoredDocument> GetDocumentAsync(string corpus, string path, CancellationToken cancellationToken = default) =>
        SendAsync<StoredDocument>(HttpMethod.Get, DocumentPath(corpus, path), body: null, idempotencyKey: null, cancellationToken);

    // A retried DELETE whose first answer was lost finds nothing and reports NotFoundException: the document is gone either way.
    /// <inheritdoc />
    public Task DeleteDocumentAsync(string corpus, string path, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, DocumentPath(corpus, path), cancellationToken);

    /// <inheritdoc />
    public Task<DocumentPage> ListDocumentsAsync(string corpus, string? prefix = null, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default)
    {
        var query = new List<string>();
        if (!string.IsNullOrEmpty(prefix))
        {
            query.Add("prefix=" + Uri.EscapeDataString(prefix));
        }

        if (limit is { } take)
        {
            query.Add("limit=" + take.ToString(CultureInfo.InvariantCulture));
        }

        if (cursor is not null)
        {
            query.Add("cursor=" + Uri.EscapeDataString(cursor));
        }

        return SendAsync<DocumentPage>(HttpMethod.Get, CorpusPath(corpus) + "/documents" + Join(query), body: null, idempotencyKey: null, cancellationToken);
    }

    /// <inheritdoc />
    public Task<HealthStatus> HealthAsync(CancellationToken cancellationToken = default) =>
        SendAsync<HealthStatus>(HttpMethod.Get, "health", body: null, idempotencyKey: null, cancellationToken);

    // The key is fixed here, once per call, on the one request message the resilience handler snapshots: each retry it
    // sends is a copy with the same headers, so the server sees one key and stores the write once.
    private static string KeyFor(string? given) => given ?? Guid.NewGuid().ToString("D");

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, string? idempotencyKey, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is HttpContent raw)
        {
            request.Content = raw;
        }
        else if (body is not null)
        {
            // Bytes, not a streamed JsonContent: a retry resends the same content object, which must be readable again.
            request.Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), ContextCompilerJson.Options))
            {
                Headers = { ContentType = JsonMediaType },
            };
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add(IdempotencyKeyHeader, idempotencyKey);
        }

        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(ContextCompilerJson.Options, cancellationToken).ConfigureAwait(false)
                ?? throw new ContextCompilerException($"{method} {path} answered {(int)response.StatusCode} with a null body.", response.StatusCode);
        }
        catch (JsonException e)
        {
            throw new ContextCompilerException($"{method} {path} answered {(int)response.StatusCode} with JSON this client cannot read: {e.Message}", response.StatusCode, innerException: e);
        }
    }

    // A call whose success has no body (a DELETE's 204).
    private async Task SendAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw await ErrorResponses.ToExceptionAsync(response, cancellationToken).ConfigureAwait(false);
        }
    }

    private static T Required<T>(T request)
        where T : class => request ?? throw new ArgumentNullException(nameof(request));

    private static string SessionPath(string sessionId)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        return "v1/sessions/" + Uri.EscapeDataString(sessionId);
    }

    private static string CorpusPath(string corpus)
    {
        ArgumentException.ThrowIfNullOrEmpty(corpus);
        return "v1/corpora/" + Uri.EscapeDataString(corpus);
    }

    // Each segment escaped and the '/' between them kept, so the server sees the folders. Empty, '.' and '..' segments are
    // refused here: Uri would remove the dot segments before sending, and the document would land at another path.
    private static string DocumentPath(string corpus, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var segments = path.Split('/');
        if (segments.Any(s => s is "" or "." or ".."))
        {
            throw new ArgumentException($"A document path is relative, with no empty, '.' or '..' segments: '{path}' is not.", nameof(path));
        }

        return CorpusPath(corpus) + "/documents/" + string.Join('/', segments.Select(Uri.EscapeDataString));
    }

    private static string QueryString(SessionQuery? query)
    {
        if (query is null)
        {
            return string.Empty;
        }

        var parts = new List<string>();
        void Add(string name, string? value)
        {
            if (value is not null)
            {
                parts.Add(name + "=" + Uri.EscapeDataString(value));
            }
        }

        // Round-trip ("O") timestamps keep the offset and every digit the server compares.
        static string? Time(DateTimeOffset? t) => t?.ToString("O", CultureInfo.InvariantCulture);
        Add("userId", query.UserId);
        Add("status", query.Status);
        Add("createdAfter", Time(query.CreatedAfter));
        Add("createdBefore", Time(query.CreatedBefore));
        Add("updatedAfter", Time(query.UpdatedAfter));
        Add("updatedBefore", Time(query.UpdatedBefore));
        Add("orderBy", query.OrderBy);
        Add("direction", query.Direction);
        Add("limit", query.Limit?.ToString(CultureInfo.InvariantCulture));
        Add("offset", query.Offset?.ToString(CultureInfo.InvariantCulture));
        return Join(parts);
    }

    private sealed record CompactBody(int? HistoryBudget);

    private static string Join(List<string> parts) => parts.Count == 0 ? string.Empty : "?" + string.Join('&', parts);
}
