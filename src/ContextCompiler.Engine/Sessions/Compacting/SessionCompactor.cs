using System.Text.Json;
using ContextCompiler.Core.Telemetry;
using ContextCompiler.Core.Tokenization;

namespace ContextCompiler.Engine.Sessions.Compacting;

/// <summary>
/// Folds a session's evicted messages into a stored summary: plan what to fold → summarise (the previous summary plus the
/// folded messages) → store the compaction. Turns call it inside their session lock; <see cref="CompactAsync"/> takes the
/// same lock, so a turn and a compaction never interleave on one session.
/// </summary>
public sealed class SessionCompactor(
    ISessionRepository sessions, ICompactionStore compactions, IConversationSummarizer summarizer, SessionLocks locks, BudgetResolver budgets,
    ITokenizer tokenizer, SessionStoreOptions options, ContextVectorWarmer? warmer = null)
{
    // Below this a summary cannot say anything (a heading's worth of tokens): the messages simply leave the history.
    private const int MinSummaryTokens = 16;

    /// <summary>The settings in force for a turn: the turn's over the session's over the service's.</summary>
    /// <exception cref="ArgumentException">Invalid settings in the turn.</exception>
    public CompactionSettings SettingsFor(Session session, CompactionSettings? turn) =>
        (turn?.Validate() ?? new CompactionSettings()).Over(session.Compaction).Over(ServiceSettings).Over(CompactionSettings.Defaults);

    // The operator's settings, checked once: a misspelt mode in configuration must not silently mean "auto".
    private CompactionSettings? ServiceSettings { get; } = options.Compaction?.Validate();

    /// <summary>The session's compactions, oldest first.</summary>
    public IReadOnlyList<Compaction> List(string tenant, string id) => compactions.List(tenant, id);

    /// <summary>
    /// For a turn about to be taken (its caller holds the session lock): compacts when the messages its history leaves out,
    /// unsummarised, reach the threshold. Returns the session's compactions afterwards, the one made now (null when none
    /// was), and the turn's history window when the check built it and nothing was folded (null otherwise).
    /// </summary>
    public async Task<TurnCompaction> CompactIfDueAsync(
        string tenant, string id, IReadOnlyList<Message> messages, int historyBudget, CompactionSettings settings, ITokenizer turnTokenizer,
        bool skipOversized, CancellationToken cancellationToken)
    {
        var stored = compactions.List(tenant, id);
        var latest = stored.Count > 0 ? stored[^1] : null;
        if (settings.Mode == CompactionModes.Off)
        {
            return new(stored, null, null);
        }

        var window = HistoryBuilder.Build(messages, historyBudget, turnTokenizer, skipOversized, latest);
        if (CompactionPlanner.Evicted(messages, window, latest).Count < settings.Threshold!.Value)
        {
            return new(stored, null, window);
        }

        var made = await FoldAsync(tenant, id, messages, latest, historyBudget, settings, turnTokenizer, skipOversized, CompactionTriggers.Auto, cancellationToken);
        return made is null ? new(stored, null, window) : new([.. stored, made], made, null);
    }

    /// <summary>
    /// Compacts on demand: folds every message that would not fit the history beside a summary. Nothing to fold stores
    /// nothing and returns the compaction in force, so a retried request does not compact twice.
    /// </summary>
    /// <param name="historyBudget">The history budget to compact for; null for the session's.</param>
    /// <exception cref="ArgumentException">A budget below 1 or above the maximum.</exception>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    public async Task<CompactionOutcome> CompactAsync(string tenant, string id, int? historyBudget = null, CancellationToken cancellationToken = default)
    {
        using var _ = await locks.EnterAsync(tenant, id, cancellationToken);
        var session = sessions.Get(tenant, id);
        int budget = historyBudget is { } given ? budgets.CheckHistory(given, "historyBudget") : budgets.Resolve(null, session.DefaultBudgets).History;
        var settings = SettingsFor(session, null);
        var messages = sessions.Messages(tenant, id);
        var stored = compactions.List(tenant, id);
        var made = await FoldAsync(tenant, id, messages, stored.Count > 0 ? stored[^1] : null, budget, settings, tokenizer, false, CompactionTriggers.Manual, cancellationToken);
        var all = made is null ? stored : [.. stored, made];
        var inForce = all.Count > 0 ? all[^1] : null;
        var window = HistoryBuilder.Build(messages, budget, tokenizer, false, inForce);
        return new CompactionOutcome(made is not null, inForce,
            UsageMeter.Measure(messages, window, budget, CompactionPlanner.Evicted(messages, window, inForce), all, settings, tokenizer));
    }

    // Plans, summarises and stores one compaction; null when there is nothing to fold.
    private async Task<Compaction?> FoldAsync(
        string tenant, string id, IReadOnlyList<Message> messages, Compaction? latest, int historyBudget, CompactionSettings settings,
        ITokenizer counter, bool skipOversized, string trigger, CancellationToken cancellationToken)
    {
        int summaryBudget = settings.SummaryBudget(historyBudget);
        var fold = CompactionPlanner.Fold(messages, historyBudget, summaryBudget, latest, counter, skipOversized);
        if (fold.Count == 0 || summaryBudget < MinSummaryTokens)
        {
            return null;
        }

        using var activity = Instrumentation.Source.StartActivity("compaction");
        activity?.SetTag(Tags.Session, id);
        var request = new SummaryRequest(latest?.Summary, fold, CitedSources(tenant, id, messages, fold), summaryBudget, counter);
        var summary = await summarizer.SummarizeAsync(request, cancellationToken);
        if (string.IsNullOrWhiteSpace(summary.Text))
        {
            // Nothing fit the summary's budget: a compaction would drop the messages and keep nothing of them.
            return null;
        }

        var compaction = new Compaction(
            SessionIds.New(), (latest?.Number ?? 0) + 1, fold[0].Sequence, fold[^1].Sequence, messages[^1].Sequence, summary.Text,
            counter.CountTokens(summary.Text), summary.Summarizer, summary.Model, summary.PromptHash, trigger, summary.FallbackReason, sessions.Now());
        compactions.Add(tenant, id, compaction);
        if (options.RetrievalSummary && trigger == CompactionTriggers.Manual)
        {
            // The next turn's conversation vector embeds the summary on its own, as it does a reply: embedded now, it is
            // ready then. A turn's own compaction is not warmed: that turn embeds the summary at once, and a second run
            // of the model on the same text beside it would only cost.
            warmer?.Warm(compaction.Summary);
        }

        return compaction;
    }

    // For each folded assistant reply, the sources its [n] markers cite in the working set of the turn it answers: the
    // markers its stored citation check found in that working set.
    private Dictionary<string, IReadOnlyList<CitedSource>> CitedSources(string tenant, string id, IReadOnlyList<Message> messages, IReadOnlyList<Message> fold)
    {
        var cited = new Dictionary<string, IReadOnlyList<CitedSource>>(StringComparer.Ordinal);
        if (!fold.Any(m => m.CitationCheck is { Used.Count: > 0 }))
        {
            return cited;
        }

        var workingSets = sessions.WorkingSets(tenant, id);
        Message? turn = null;
        foreach (var message in messages)
        {
            if (message.Role == MessageRoles.User)
            {
                turn = message;
            }
            else if (message.CitationCheck is { Used.Count: > 0 } check && turn is not null && fold.Contains(message)
                     && workingSets.GetValueOrDefault(turn.Id) is { } json)
            {
                cited[message.Id] = Sources(json).Where(s => check.Used.Contains(s.N)).ToList();
            }
        }

        return cited;
    }

    private static List<CitedSource> Sources(RawJson workingSet)
    {
        using var document = JsonDocument.Parse(workingSet.Json);
        if (!document.RootElement.TryGetProperty("citations", out var citations))
        {
            return [];
        }

        return citations.EnumerateArray()
            .Select(c => new CitedSource(c.GetProperty("n").GetInt32(), c.GetProperty("corpus").GetString()!, c.GetProperty("path").GetString()!,
                c.GetProperty("startLine").GetInt32(), c.GetProperty("endLine").GetInt32()))
            .ToList();
    }
}

/// <summary>What a turn's compaction check leaves: the session's compactions, the one made now, and the window it built.</summary>
/// <param name="Compactions">The session's compactions, oldest first, the one made now included.</param>
/// <param name="Made">The compaction the turn made; null when it made none.</param>
/// <param name="History">The turn's history window, when the check built it and it still holds (nothing was folded).</param>
public sealed record TurnCompaction(IReadOnlyList<Compaction> Compactions, Compaction? Made, HistoryWindow? History)
{
    /// <summary>The compaction in force for the turn; null before the first.</summary>
    public Compaction? InForce => Compactions.Count > 0 ? Compactions[^1] : null;
}
