using System.Text.Json.Serialization;

namespace ContextCompiler.Engine.Sessions.Compacting;

/// <summary>Whether a session folds old history into a summary on its own. Stored and sent in lower case.</summary>
public static class CompactionModes
{
    /// <summary>Compact when the evicted messages reach the threshold (the default).</summary>
    public const string Auto = "auto";

    /// <summary>Never compact on a turn; old messages simply leave the history. <c>POST /compact</c> still works.</summary>
    public const string Off = "off";

    /// <summary>The mode in canonical form, or an <see cref="ArgumentException"/> naming the allowed ones.</summary>
    public static string Parse(string? mode) => mode?.Trim().ToLowerInvariant() switch
    {
        Auto => Auto,
        Off => Off,
        _ => throw new ArgumentException($"compaction must be '{Auto}' or '{Off}', not '{mode}'."),
    };
}

/// <summary>
/// How a session (or one turn) compacts. Every part is optional: a turn's settings override the session's, which override
/// the service's (<see cref="SessionStoreOptions.Compaction"/>).
/// </summary>
/// <param name="Mode"><c>auto</c> or <c>off</c>.</param>
/// <param name="Threshold">How many messages must have left the history, unsummarised, before a turn compacts (at least 1).</param>
/// <param name="SummaryShare">The summary's share of the history budget, in (0, 1): the summariser packs to it.</param>
public sealed record CompactionSettings(string? Mode = null, int? Threshold = null, double? SummaryShare = null)
{
    /// <summary>The service's defaults: auto, after 2 evicted messages (one exchange), a summary of at most 30% of the history.</summary>
    public static CompactionSettings Defaults { get; } = new(CompactionModes.Auto, 2, 0.3);

    /// <summary>The settings a request's three fields give, or null when it gives none (checked where they are used).</summary>
    public static CompactionSettings? From(string? mode, int? threshold, double? summaryShare) =>
        mode is null && threshold is null && summaryShare is null ? null : new(mode, threshold, summaryShare);

    /// <summary>These settings, each missing part taken from <paramref name="fallback"/>.</summary>
    public CompactionSettings Over(CompactionSettings? fallback) =>
        fallback is null ? this : new(Mode ?? fallback.Mode, Threshold ?? fallback.Threshold, SummaryShare ?? fallback.SummaryShare);

    /// <summary>Checks every given part and returns the settings with the mode in canonical form.</summary>
    /// <exception cref="ArgumentException">An unknown mode, a threshold below 1 or a share outside (0, 1).</exception>
    public CompactionSettings Validate()
    {
        if (Threshold is < 1)
        {
            throw new ArgumentException($"compactionThreshold must be at least 1, not {Threshold}.");
        }

        if (SummaryShare is { } share && !(share > 0 && share < 1))
        {
            throw new ArgumentException($"summaryShare must be between 0 and 1 (exclusive), not {share.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
        }

        return Mode is null ? this : this with { Mode = CompactionModes.Parse(Mode) };
    }

    /// <summary>The summary's token budget within <paramref name="historyBudget"/>.</summary>
    public int SummaryBudget(int historyBudget) => (int)Math.Floor(historyBudget * (SummaryShare ?? Defaults.SummaryShare!.Value));
}

/// <summary>
/// One stored compaction: a summary of the session's messages 1 to <see cref="ThroughSequence"/>, built from the previous
/// summary (which covered up to <see cref="FromSequence"/> − 1) and the messages it folded in. The messages stay stored.
/// </summary>
/// <param name="Number">1, 2, 3… in the session's order; the newest is the summary in force.</param>
/// <param name="FromSequence">The first message this compaction folded in (the previous one covered those before it).</param>
/// <param name="ThroughSequence">The last message the summary covers.</param>
/// <param name="AtSequence">The session's last message when the compaction was made: it happened after that message.</param>
/// <param name="Summary">The summary text, as the history carries it after its heading.</param>
/// <param name="TokenCount">Exact tokens of <paramref name="Summary"/> in the service's tokenizer.</param>
/// <param name="Summarizer"><c>extractive</c> or <c>model</c>.</param>
/// <param name="Model">The chat model that wrote it; null for extractive.</param>
/// <param name="PromptHash">SHA-256 (hex) of the prompt template a model summary was asked with; null for extractive.</param>
/// <param name="Trigger"><c>auto</c> (a turn reached the threshold) or <c>manual</c> (<c>POST /compact</c>).</param>
/// <param name="FallbackReason">Why the model's summary was replaced by the extractive one; null when it was not.</param>
public sealed record Compaction(
    string Id, int Number, long FromSequence, long ThroughSequence, long AtSequence, string Summary, int TokenCount, string Summarizer,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Model,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? PromptHash,
    string Trigger,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FallbackReason,
    DateTimeOffset CreatedAt);

/// <summary>What a compaction triggered: <c>auto</c> or <c>manual</c>.</summary>
public static class CompactionTriggers
{
    public const string Auto = "auto";
    public const string Manual = "manual";
}

/// <summary>
/// Compactions of sessions: the store seam. Deleting a session deletes its compactions; nothing else removes or changes one.
/// </summary>
public interface ICompactionStore
{
    /// <summary>The session's compactions, oldest first; empty when it has none.</summary>
    IReadOnlyList<Compaction> List(string tenant, string sessionId);

    /// <summary>
    /// Stores <paramref name="compaction"/> (its <see cref="Compaction.Number"/> must follow the newest stored one) unless
    /// another writer stored that number first.
    /// </summary>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    /// <exception cref="SessionConflictException">Another compaction of this number was stored first.</exception>
    void Add(string tenant, string sessionId, Compaction compaction);
}

/// <summary>
/// A session's context usage, as a3s-code reports it: what is stored, what the history window holds, the summary's part
/// and the share of the history budget used. Every token figure is exact in the tokenizer named.
/// </summary>
/// <param name="Messages">Stored messages.</param>
/// <param name="MessageTokens">Their tokens, each message rendered as the history renders it and counted alone.</param>
/// <param name="HistoryBudget">The history budget the window was built for.</param>
/// <param name="HistoryTokens">Exact tokens of the window's text (summary, separators and messages).</param>
/// <param name="HistoryMessages">Messages the window holds after its summary.</param>
/// <param name="SummaryTokens">Tokens of the summary block in the window (heading included); 0 without one.</param>
/// <param name="SummaryThroughSequence">The last message the summary in force covers; null before the first compaction.</param>
/// <param name="Compactions">Compactions stored.</param>
/// <param name="EvictedMessages">Messages neither in the window nor covered by the summary: what the next compaction folds.</param>
/// <param name="EvictedTokens">Their tokens, counted alone.</param>
/// <param name="BudgetUsed">HistoryTokens / HistoryBudget.</param>
/// <param name="Compaction">The settings in force (mode, threshold, summary share).</param>
public sealed record SessionUsage(
    int Messages, long MessageTokens, int HistoryBudget, int HistoryTokens, int HistoryMessages, int SummaryTokens,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? SummaryThroughSequence,
    int Compactions, int EvictedMessages, long EvictedTokens, double BudgetUsed, CompactionSettings Compaction);

/// <summary>The outcome of <c>POST /compact</c>: whether a compaction was stored, the one in force, and the usage after it.</summary>
public sealed record CompactionOutcome(
    bool Compacted, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] Compaction? Compaction, SessionUsage Usage);
