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
    /// <exception cref="QuotaExceededException">The user already has the most open sessions allowed; close one first.</exception>
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

    /// <summary>
    /// <c>GET /v1/sessions/{id}/usage</c>: stored messages and tokens, the history window with its summary, what has left
    /// the window unsummarised, and the share of the history budget used.
    /// </summary>
    /// <param name="historyBudget">The history budget to measure at; null for the latest turn's (else the session's).</param>
    Task<SessionUsage> GetUsageAsync(string sessionId, int? historyBudget = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// <c>POST /v1/sessions/{id}/compact</c>: folds the messages that would not fit the history beside a summary into the
    /// running summary. Safe to retry: with nothing new to fold it stores nothing and returns the compaction in force.
    /// </summary>
    /// <param name="historyBudget">The history budget to compact for; null for the session's.</param>
    Task<CompactionOutcome> CompactAsync(string sessionId, int? historyBudget = null, CancellationToken cancellationToken = default);

    /// <summary><c>GET /v1/sessions/{id}/compactions</c>: the session's compactions, oldest first.</summary>
    Task<IReadOnlyList<Compaction>> ListCompactionsAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary><c>POST /v1/sessions/{id}/replay/recompile</c>: compiles every stored turn again and compares; stores nothing.</summary>
    Task<RecompileReport> RecompileAsync(string sessionId, RecompileRequest? request = null, CancellationToken cancellationToken = default);

    /// <summary><c>GET /v1/corpora</c>: the corpora this tenant can read, its own first, then the shared ones.</summary>
    Task<IReadOnlyList<CorpusInfo>> ListCorporaAsync(CancellationToken cancellationToken = default);

    /// <summary><c>POST /v1/corpora</c>: creates a corpus of this tenant's.</summary>
    /// <exception cref="ConflictException">The tenant has, or can read a shared, corpus of that name.</exception>
    /// <exception cref="QuotaExceededException">The tenant owns the most corpora allowed.</exception>
    Task<CorpusInfo> CreateCorpusAsync(string name, CancellationToken cancellationToken = default);

    /// <summary><c>DELETE /v1/corpora/{corpus}</c>: deletes one of this tenant's corpora with all its documents.</summary>
    /// <exception cref="NotFoundException">The tenant owns no such corpus (a shared one cannot be deleted).</exception>
    Task DeleteCorpusAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// <c>PUT /v1/corpora/{corpus}/documents/{path}</c>: stores or replaces a document. It is in lexical retrieval when
    /// this returns; its vectors follow (<see cref="DocumentInfo.Status"/>). The same text again changes nothing.
    /// </summary>
    /// <param name="path">Its path inside the corpus, folders separated by '/'.</param>
    /// <param name="mediaType">text/markdown, text/plain, text/html or a source-code type; null lets the path's extension decide.</param>
    /// <exception cref="PayloadTooLargeException">Over the service's per-document limit.</exception>
    /// <exception cref="QuotaExceededException">Over the tenant's documents or bytes.</exception>
    /// <exception cref="UnsupportedMediaTypeException">A media type or charset the service does not read.</exception>
    Task<DocumentWrite> PutDocumentAsync(string corpus, string path, string text, string? mediaType = null, CancellationToken cancellationToken = default);

    /// <summary><c>GET /v1/corpora/{corpus}/documents/{path}</c>: the document with exactly the text it was stored with.</summary>
    Task<StoredDocument> GetDocumentAsync(string corpus, string path, CancellationToken cancellationToken = default);

    /// <summary><c>DELETE /v1/corpora/{corpus}/documents/{path}</c>: removes the document from every index.</summary>
    Task DeleteDocumentAsync(string corpus, string path, CancellationToken cancellationToken = default);

    /// <summary><c>GET /v1/corpora/{corpus}/documents</c>: one page of documents in path order.</summary>
    /// <param name="prefix">Only paths that start with this.</param>
    /// <param name="limit">Documents per page, 1 to 1000 (the service's default is 100).</param>
    /// <param name="cursor">A previous page's <see cref="DocumentPage.NextCursor"/>.</param>
    Task<DocumentPage> ListDocumentsAsync(string corpus, string? prefix = null, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default);

    /// <summary><c>GET /health</c>.</summary>
    Task<HealthStatus> HealthAsync(CancellationToken cancellationToken = default);
}
