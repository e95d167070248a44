using System.ComponentModel;
using System.Security.Claims;
using ContextCompiler.Core.Cite;
using ContextCompiler.Core.Compile;
using ContextCompiler.Server.Endpoints;
using ContextCompiler.Engine.Corpora;
using ContextCompiler.Engine.Sessions;
using ContextCompiler.Engine.Sessions.Compacting;
using ModelContextProtocol.Server;

namespace ContextCompiler.Server.Mcp;

/// <summary>
/// The MCP tools: compile a working set, take turns, store replies, replay a session, check a draft's citations, and
/// measure and compact a session's history.
/// Each returns a typed record, so clients get structured content with an output schema. The caller's tenant comes
/// from the same API key authentication as <c>/v1</c>; failures are turned into error results by <see cref="ToolErrors"/>.
/// </summary>
[McpServerToolType]
public sealed class ContextTools(WorkingSetCompiler compiler, SessionGateway sessions, ICorpusStore corpora)
{
    /// <summary>compile_context: a cited working set for a query; stores nothing.</summary>
    [McpServerTool(Name = "compile_context", Title = "Compile context", ReadOnly = true, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Retrieve from the indexed corpora and compile a cited working set for a query that fits a token budget exactly. "
        + "Cite its blocks as [n] by their citation numbers. Stores nothing.")]
    [return: Description("The working set: rendered text with [n] headers, its citations, and its exact token count.")]
    public Task<WorkingSet> CompileContext(
        ClaimsPrincipal user,
        [Description("What the context is for, usually the user's question.")] string query,
        [Description("Tokens the rendered working set may take, from 1 to the server's maximum.")] int budget,
        [Description("Only retrieve from this corpus (one of yours, or a shared one).")] string? corpus = null,
        [Description("Only retrieve from paths that start with this prefix.")] string? pathPrefix = null,
        [Description("Count tokens in this encoding or model's tokens (o200k_base, cl100k_base, gpt-4o, gpt-4, …); the service's own when omitted.")] string? tokenizer = null,
        CancellationToken cancellationToken = default) =>
        compiler.CompileAsync(CompileValidation.Request(new CompileBody(query, budget, corpus, pathPrefix, null, false, tokenizer), sessions.MaxBudget, corpora, user.Tenant()), cancellationToken);

    /// <summary>take_turn: a user message stored with its working set and the history to send with it.</summary>
    [McpServerTool(Name = "take_turn", Title = "Take a turn", Destructive = false, Idempotent = false, OpenWorld = false, UseStructuredContent = true)]
    [Description("Add a user message to a conversation: compile its working set (retrieving with the message and the recent conversation) "
        + "and fit the history, then store both. Without sessionId a new session is started and its id returned.")]
    [return: Description("The session id and the turn: the stored user message, its working set, the history and the token accounting.")]
    public Task<SessionTurn> TakeTurn(
        ClaimsPrincipal user,
        [Description("The user's message.")] string message,
        [Description("The session to add the turn to; omit it to start a new session.")] string? sessionId = null,
        [Description("Tokens of the working set. Give context and history budgets, or a total, or neither for the session's defaults.")] int? contextBudget = null,
        [Description("Tokens of the conversation history.")] int? historyBudget = null,
        [Description("Tokens of both together; the history takes what it needs up to its share and the working set gets the rest.")] int? totalBudget = null,
        [Description("Count both budgets in this encoding or model's tokens (o200k_base, cl100k_base, gpt-4o, …); the service's own when omitted.")] string? tokenizer = null,
        CancellationToken cancellationToken = default) =>
        sessions.TakeTurnAsync(user.Tenant(), sessionId,
            new TurnRequest(message, new SessionBudgets(contextBudget, historyBudget, totalBudget), Tokenizer: tokenizer), cancellationToken);

    /// <summary>add_assistant_message: the assistant's reply, stored with its citation check.</summary>
    [McpServerTool(Name = "add_assistant_message", Title = "Add the assistant's reply", Destructive = false, Idempotent = false, OpenWorld = false, UseStructuredContent = true)]
    [Description("Store the assistant's reply to the latest turn. Its [n] markers are checked against that turn's working set; "
        + "markers the working set does not have are reported as unknown.")]
    [return: Description("The stored message with its citationCheck (markers, used, unknown, unused, sentences with a marker).")]
    public Task<Message> AddAssistantMessage(
        ClaimsPrincipal user,
        [Description("The session the reply belongs to.")] string sessionId,
        [Description("The reply's text, citing the working set as [n].")] string content,
        CancellationToken cancellationToken = default) =>
        sessions.AddAssistantMessageAsync(user.Tenant(), sessionId, content, cancellationToken);

    /// <summary>replay_session: the whole session as turns.</summary>
    [McpServerTool(Name = "replay_session", Title = "Replay a session", ReadOnly = true, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("The whole session as it happened: each user message with the working set stored for it, the assistant's reply and its citation check.")]
    [return: Description("The session and its turns.")]
    public SessionReplay ReplaySession(
        ClaimsPrincipal user,
        [Description("The session to replay.")] string sessionId) =>
        sessions.Replay(user.Tenant(), sessionId);

    /// <summary>compact_session: the session's older messages folded into its running summary.</summary>
    // Idempotent as the HTTP route is: a repeated call finds nothing left to fold and stores nothing.
    [McpServerTool(Name = "compact_session", Title = "Compact a session", ReadOnly = false, Destructive = false, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Fold the session's messages that no longer fit the history beside a summary into its running summary, so later turns "
        + "carry the summary instead of losing those messages. The messages stay stored. A repeated call with nothing new to fold stores "
        + "nothing and returns the compaction in force.")]
    [return: Description("Whether a compaction was stored, the compaction in force (summary, the messages it covers, tokens, summariser) and the usage after it.")]
    public Task<CompactionOutcome> CompactSession(
        ClaimsPrincipal user,
        [Description("The session to compact.")] string sessionId,
        [Description("The history budget to compact for, in tokens; the session's when omitted.")] int? historyBudget = null,
        CancellationToken cancellationToken = default) =>
        sessions.CompactAsync(user.Tenant(), sessionId, historyBudget, cancellationToken);

    /// <summary>session_usage: how much of the history budget the session's history takes.</summary>
    [McpServerTool(Name = "session_usage", Title = "Session context usage", ReadOnly = true, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("The session's context usage: stored messages and tokens, the history window's tokens against its budget, the summary's "
        + "tokens, and the messages that have left the window without being summarised (what compact_session would fold).")]
    [return: Description("Messages, tokens, history budget and tokens, summary tokens, compactions, evicted messages and tokens, the share of the budget used, and the compaction settings.")]
    public SessionUsage GetSessionUsage(
        ClaimsPrincipal user,
        [Description("The session to measure.")] string sessionId,
        [Description("The history budget to measure at, in tokens; the latest turn's when omitted.")] int? historyBudget = null) =>
        sessions.Usage(user.Tenant(), sessionId, historyBudget);

    /// <summary>check_citations: a draft reply's markers checked without storing it.</summary>
    [McpServerTool(Name = "check_citations", Title = "Check a draft's citations", ReadOnly = true, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Check a draft reply's [n] markers against the working set of the session's latest turn, without storing anything, "
        + "so the draft can be fixed before add_assistant_message.")]
    [return: Description("Markers found, citations used, unknown numbers (not in the working set), unused citations, and sentences with a marker.")]
    public CitationCheck CheckCitations(
        ClaimsPrincipal user,
        [Description("The session whose latest turn the draft answers.")] string sessionId,
        [Description("The draft reply.")] string reply) =>
        sessions.CheckReply(user.Tenant(), sessionId, reply);
}
