namespace ContextCompiler.Client;

/// <summary>
/// The ContextCompiler HTTP API. Every call throws a <see cref="ContextCompilerException"/> (or a subclass for the
/// status) when the service answers with an error. Writes that store something carry an <c>Idempotency-Key</c>, so a
/// retried call stores once.
/// </summary>
public interface IContextCompilerClient
{
    /// <summary><c>POST /v1/compile</c>: a working set for a query; nothing is stored.</summary>
    Task<WorkingSet> CompileAsync(CompileRequest request, CancellationToken cancellationToken = default);

    /// <summary><c>POST /v1/sessions</c>: starts a session.</summary>
    Task<Session> CreateSessionAsync(CreateSessionRequest? request = null, CancellationToken cancellationToken = default);

    /// <summary><c>GET /v1/sessions</c>: one page of this tenant's sessions.</summary>
    Task<SessionPage> ListSessionsAsync(SessionQuery? query = null, CancellationToken cancellationToken = default);

    /// <summary><c>GET /v1/sessions/{id}</c>.</summary>
    Task<Session> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary><c>POST /v1/sessions/{id}/close</c>: the session keeps its messages but takes no new ones.</summary>
    Task<Session> CloseSessionAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary><c>DELETE /v1/sessions/{id}</c>: deletes the session and everything in it.</summary>
    Task DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary><c>POST /v1/sessions/{id}/turns</c>: stores a user message with its compiled working set and returns the history to send with it.</summary>
    Task<TurnResponse> TakeTurnAsync(string sessionId, TurnRequest request, CancellationToken cancellationToken = default);

    /// <summary><c>POST /v1/sessions/{id}/messages</c>: stores an assistant, system or tool message.</summary>
    Task<Message> AddMessageAsync(string sessionId, AddMessageRequest request, CancellationToken cancellationToken = default);

    /// <summary><c>GET /v1/sessions/{id}/history</c>: the newest messages that fit <paramref name="maxTokens"/> (null for all).</summary>
    Task<HistoryWindow> GetHistoryAsync(string sessionId, int? maxTokens = null, bool skipOversized = false, CancellationToken cancellationToken = default);

    /// <summary><c>GET /v1/sessions/{id}/replay</c>: every turn with its stored working set, byte for byte.</summary>
    Task<SessionReplay> ReplayAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary><c>POST /v1/sessions/{id}/replay/recompile</c>: compiles every stored turn again and compares; stores nothing.</summary>
    Task<RecompileReport> RecompileAsync(string sessionId, RecompileRequest? request = null, CancellationToken cancellationToken = default);

    /// <summary><c>GET /health</c>.</summary>
    Task<HealthStatus> HealthAsync(CancellationToken cancellationToken = default);
}
