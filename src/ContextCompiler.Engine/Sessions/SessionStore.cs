using System.Text.Json;
using ContextCompiler.Core.Cite;
using ContextCompiler.Core.Tokenization;
using ContextCompiler.Engine.Sessions.Compacting;

namespace ContextCompiler.Engine.Sessions;

/// <summary>
/// Sessions and their messages: create, list, close, delete, add replies (with their citation check), history and replay.
/// User messages come through <see cref="TurnService"/>, which compiles their working set. Every read and write is
/// scoped to a tenant: another tenant's session is reported as not found.
/// </summary>
public sealed class SessionStore(
    ISessionRepository repository, SessionLocks locks, BudgetResolver budgets, ITokenizer tokenizer, SessionStoreOptions options,
    SessionCompactor compactor, ContextVectorWarmer? warmer = null)
{
    /// <summary>The store's limits and defaults.</summary>
    public SessionStoreOptions Options { get; } = options;

    /// <summary>Creates an open session; with <paramref name="idempotency"/>, the key is saved in the same transaction.</summary>
    /// <exception cref="ArgumentException">Invalid default budgets or compaction settings.</exception>
    /// <exception cref="SessionCapacityException">The user already has the most open sessions allowed.</exception>
    /// <exception cref="IdempotencyKeyTakenException">A concurrent request saved the same key first; nothing was written.</exception>
    public Session Create(string tenant, NewSession request, IdempotencyClaim<Session>? idempotency = null)
    {
        if (request.DefaultBudgets is { } defaults)
        {
            budgets.Check(defaults);
        }

        var compaction = request.Compaction?.Validate();
        var now = repository.Now();
        // Stored exactly as sent: trimming would hand back something the client did not store.
        string? userId = string.IsNullOrEmpty(request.UserId) ? null : request.UserId;
        var metadata = request.Metadata is { ValueKind: not JsonValueKind.Undefined } m ? m.Clone() : (JsonElement?)null;
        var session = new Session(SessionIds.New(), userId, SessionStatus.Open, metadata, request.DefaultBudgets, now, now, 0) { Tenant = tenant, Compaction = compaction };
        repository.Insert(session, request.Metadata, Options.MaxOpenSessionsPerUser, idempotency);
        return session;
    }

    /// <summary>The session <paramref name="id"/> of <paramref name="tenant"/>.</summary>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    public Session Get(string tenant, string id) => repository.Get(tenant, id);

    /// <summary>A filtered, ordered page of the tenant's sessions and the number matching in all.</summary>
    /// <exception cref="ArgumentException">An unknown order, direction or status, or a bad page.</exception>
    public SessionPage List(string tenant, SessionQuery query) => repository.List(tenant, query);

    /// <summary>Closes the session; it keeps its messages but takes no more. Closing a closed session changes nothing.</summary>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    public Session Close(string tenant, string id) => repository.Close(tenant, id);

    /// <summary>Deletes the session with its messages and working sets.</summary>
    /// <exception cref="SessionNotFoundException">No such session for this tenant; nothing is deleted silently.</exception>
    public void Delete(string tenant, string id)
    {
        if (!repository.Delete(tenant, id))
        {
            throw new SessionNotFoundException(id);
        }

        locks.Forget(id);
    }

    /// <summary>
    /// Appends an assistant, system or tool message. An assistant reply gets its <c>[n]</c> markers checked against the
    /// working set of the turn it answers, stored with it.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown or user role, or empty content.</exception>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    /// <exception cref="SessionConflictException">The session is closed.</exception>
    /// <exception cref="IdempotencyKeyTakenException">A concurrent request saved the same key first; nothing was written.</exception>
    public async Task<Message> AddMessageAsync(
        string tenant, string id, string? role, string? content, JsonElement? metadata, IdempotencyClaim<Message>? idempotency = null, CancellationToken cancellationToken = default)
    {
        string parsed = MessageRoles.Parse(role);
        if (parsed == MessageRoles.User)
        {
            throw new ArgumentException("User messages are added as turns (POST /turns), so that each has its working set.", nameof(role));
        }

        string text = MessageContent.Validate(content, Options);
        using var _ = await locks.EnterAsync(tenant, id, cancellationToken);
        var check = parsed == MessageRoles.Assistant ? CheckAgainstLatestTurn(tenant, id, text) : null;
        var stored = repository.Append(tenant, id, new MessageDraft(parsed, text, metadata, CitationCheck: check), idempotency: idempotency);
        if (parsed == MessageRoles.Assistant && RepliesJoinContextVectors)
        {
            warmer?.Warm(text);
        }

        return stored;
    }

    // Whether the next turn's conversation vector embeds this reply on its own (see ContextVectorWarmer).
    private bool RepliesJoinContextVectors =>
        Options.WeightRetrievalContext && Options.RetrievalAssistantMessages > 0
        && (Options.CompilerOptions ?? new Core.Compile.CompilerOptions()).ContextVectors == "messages";

    /// <summary>
    /// Checks a draft reply's <c>[n]</c> markers against the working set of the session's latest turn, storing nothing;
    /// null before the first turn.
    /// </summary>
    /// <exception cref="ArgumentException">Empty content.</exception>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    public CitationCheck? CheckReply(string tenant, string id, string? reply)
    {
        string text = MessageContent.Validate(reply, Options);
        _ = repository.Get(tenant, id);
        return CheckAgainstLatestTurn(tenant, id, text);
    }

    /// <summary>The session's messages in order.</summary>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    public IReadOnlyList<Message> Messages(string tenant, string id) => repository.Messages(tenant, id);

    /// <summary>
    /// The newest messages that fit <paramref name="maxTokens"/> (default: the session's history budget), after the
    /// summary in force when the session has been compacted.
    /// </summary>
    public HistoryWindow History(string tenant, string id, int? maxTokens = null, bool skipOversized = false)
    {
        var session = repository.Get(tenant, id);
        int budget = budgets.CheckHistory(maxTokens ?? budgets.Resolve(null, session.DefaultBudgets).History);
        return HistoryBuilder.Build(repository.Messages(tenant, id), budget, tokenizer, skipOversized, compactor.List(tenant, id).LastOrDefault());
    }

    /// <summary>
    /// The session's context usage: stored messages and tokens; the history window its latest turn held (at that turn's
    /// history budget, with the summary then in force), or, with <paramref name="historyBudget"/>, the window the next turn
    /// would carry at that budget; and the messages that have now left the window unsummarised.
    /// </summary>
    /// <exception cref="ArgumentException">A budget below 1 or above the maximum.</exception>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    public SessionUsage Usage(string tenant, string id, int? historyBudget = null)
    {
        var session = repository.Get(tenant, id);
        var messages = repository.Messages(tenant, id);
        return Usage(session, messages, compactor.List(tenant, id), historyBudget);
    }

    private SessionUsage Usage(Session session, IReadOnlyList<Message> messages, IReadOnlyList<Compaction> stored, int? historyBudget)
    {
        var settings = compactor.SettingsFor(session, null);
        var latest = stored.LastOrDefault();
        if (historyBudget is null && LatestTurn(session, messages) is var (turn, budget))
        {
            // The latest turn's window: the messages before it, with the compaction in force when it was taken.
            var before = messages.TakeWhile(m => m.Sequence < turn.Sequence).ToList();
            var then = HistoryBuilder.Build(before, budget, tokenizer, false, stored.LastOrDefault(c => c.AtSequence < turn.Sequence));
            var next = HistoryBuilder.Build(messages, budget, tokenizer, false, latest);
            return UsageMeter.Measure(messages, then, budget, CompactionPlanner.Evicted(messages, next, latest), stored, settings, tokenizer);
        }

        int given = historyBudget is { } b ? budgets.CheckHistory(b, "historyBudget") : budgets.Resolve(null, session.DefaultBudgets).History;
        var window = HistoryBuilder.Build(messages, given, tokenizer, false, latest);
        return UsageMeter.Measure(messages, window, given, CompactionPlanner.Evicted(messages, window, latest), stored, settings, tokenizer);
    }

    // The latest user turn with its recorded history budget; null before the first (or for turns stored without one).
    private (Message Turn, int HistoryBudget)? LatestTurn(Session session, IReadOnlyList<Message> messages)
    {
        var recorded = repository.TurnBudgets(session.Tenant, session.Id);
        var last = messages.LastOrDefault(m => m.Role == MessageRoles.User && recorded.ContainsKey(m.Id));
        return last is null || recorded[last.Id].HistoryBudget < 1 ? null : (last, recorded[last.Id].HistoryBudget);
    }

    /// <summary>The session's compactions, oldest first.</summary>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    public IReadOnlyList<Compaction> Compactions(string tenant, string id)
    {
        _ = repository.Get(tenant, id);
        return compactor.List(tenant, id);
    }

    /// <summary>The whole session as turns, each user message with the working set stored for it and each compaction where it happened.</summary>
    public SessionReplay Replay(string tenant, string id)
    {
        var session = repository.Get(tenant, id);
        var messages = repository.Messages(tenant, id);
        var stored = compactor.List(tenant, id);
        return new SessionReplay(session, ReplayBuilder.Build(messages, repository.WorkingSets(tenant, id), stored))
        {
            Usage = Usage(session, messages, stored, null),
        };
    }

    /// <summary>Deletes sessions of every tenant not updated for <see cref="SessionStoreOptions.RetentionDays"/> days; returns how many.</summary>
    public int PurgeIdle() => Options.RetentionDays is { } days ? repository.DeleteUpdatedBefore(repository.Now().AddDays(-days)) : 0;

    // The reply answers the latest turn: its markers are checked against that turn's stored working set.
    private CitationCheck? CheckAgainstLatestTurn(string tenant, string id, string reply)
    {
        if (repository.LatestWorkingSet(tenant, id) is not { } json)
        {
            return null;
        }

        using var document = JsonDocument.Parse(json.Json);
        var numbers = document.RootElement.TryGetProperty("citations", out var citations)
            ? citations.EnumerateArray().Select(c => c.GetProperty("n").GetInt32()).ToList()
            : [];
        return CitationChecker.Check(reply, numbers);
    }
}
