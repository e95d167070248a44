using ContextCompiler.Core.Cite;
using ContextCompiler.Server.Endpoints;
using ContextCompiler.Engine.Sessions;
using ContextCompiler.Engine.Sessions.Compacting;

namespace ContextCompiler.Server.Mcp;

/// <summary>
/// Every call the MCP tools make into the session layer: the same <see cref="TurnService"/> and <see cref="SessionStore"/>
/// that /v1 uses, plus the one thing MCP adds, a first turn that starts its own session.
/// </summary>
public sealed class SessionGateway(SessionStore store, TurnService turns, SessionCompactor compactor)
{
    /// <summary>The largest budget a request may ask for, the same limit as <c>/v1</c>.</summary>
    public int MaxBudget => store.Options.MaxBudget;

    /// <summary>
    /// Takes a turn in <paramref name="sessionId"/>, or, when it is null or empty, in a new session of the tenant. A new
    /// session whose first turn fails is deleted again, so a refused call leaves nothing behind.
    /// </summary>
    /// <exception cref="ArgumentException">Empty message or invalid budgets.</exception>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    /// <exception cref="SessionConflictException">The session is closed.</exception>
    public async Task<SessionTurn> TakeTurnAsync(string tenant, string? sessionId, TurnRequest request, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(sessionId))
        {
            return new SessionTurn(sessionId, false, TurnResponse.From(await turns.TakeTurnAsync(tenant, sessionId, request, cancellationToken: cancellationToken)));
        }

        var session = store.Create(tenant, new NewSession());
        try
        {
            return new SessionTurn(session.Id, true, TurnResponse.From(await turns.TakeTurnAsync(tenant, session.Id, request, cancellationToken: cancellationToken)));
        }
        catch
        {
            store.Delete(tenant, session.Id);
            throw;
        }
    }

    /// <summary>Stores an assistant reply; its citation check is stored with it.</summary>
    /// <exception cref="ArgumentException">Empty content.</exception>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    /// <exception cref="SessionConflictException">The session is closed.</exception>
    public Task<Message> AddAssistantMessageAsync(string tenant, string sessionId, string content, CancellationToken cancellationToken) =>
        store.AddMessageAsync(tenant, sessionId, MessageRoles.Assistant, content, null, cancellationToken: cancellationToken);

    /// <summary>The whole session as turns with their stored working sets and citation checks.</summary>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    public SessionReplay Replay(string tenant, string sessionId) => store.Replay(tenant, sessionId);

    /// <summary>Folds what does not fit the history beside a summary into the running summary, as <c>POST /compact</c> does.</summary>
    /// <exception cref="ArgumentException">A budget below 1 or above the maximum.</exception>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    public Task<CompactionOutcome> CompactAsync(string tenant, string sessionId, int? historyBudget, CancellationToken cancellationToken) =>
        compactor.CompactAsync(tenant, sessionId, historyBudget, cancellationToken);

    /// <summary>The session's context usage, as <c>GET /usage</c> reports it.</summary>
    /// <exception cref="ArgumentException">A budget below 1 or above the maximum.</exception>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    public SessionUsage Usage(string tenant, string sessionId, int? historyBudget) => store.Usage(tenant, sessionId, historyBudget);

    /// <summary>A draft reply checked against the latest turn's working set; stores nothing.</summary>
    /// <exception cref="ArgumentException">An empty reply.</exception>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    /// <exception cref="SessionConflictException">The session has no turn yet, so there is no working set to check against.</exception>
    public CitationCheck CheckReply(string tenant, string sessionId, string reply) =>
        store.CheckReply(tenant, sessionId, reply)
        ?? throw new SessionConflictException($"Session '{sessionId}' has no turn yet, so there is no working set to check the reply against; call take_turn first.");
}

/// <summary>A turn taken over MCP: the session it went into and the same content as the HTTP turn response.</summary>
/// <param name="SessionId">The session of the turn; pass it to the next take_turn, add_assistant_message and check_citations.</param>
/// <param name="CreatedSession">True when no session was given and this call started one.</param>
/// <param name="Turn">The stored user message, its working set, the history to send with it, and the token accounting.</param>
public sealed record SessionTurn(string SessionId, bool CreatedSession, TurnResponse Turn);
