namespace ContextCompiler.Client;

/// <summary>Whether a session folds old history into a summary on its own, as the server spells it.</summary>
public static class CompactionModes
{
    /// <summary>Compact when the evicted messages reach the threshold (the service's default).</summary>
    public const string Auto = "auto";

    /// <summary>Never compact on a turn; <see cref="IContextCompilerClient.CompactAsync"/> still does.</summary>
    public const string Off = "off";
}

/// <summary>A session's compaction settings; a null part takes the service's.</summary>
/// <param name="Mode"><see cref="CompactionModes.Auto"/> or <see cref="CompactionModes.Off"/>.</param>
/// <param name="Threshold">How many messages must have left the history, unsummarised, before a turn compacts.</param>
/// <param name="SummaryShare">The summary's share of the history budget, in (0, 1).</param>
public sealed record CompactionSettings(string? Mode = null, int? Threshold = null, double? SummaryShare = null);

/// <summary>
/// One stored compaction: a summary of the session's messages 1 to <see cref="ThroughSequence"/>, built from the previous
/// summary and the messages <see cref="FromSequence"/> to <see cref="ThroughSequence"/>. The messages stay stored.
/// </summary>
/// <param name="Number">1, 2, 3… in the session's order; the newest is the summary in force.</param>
/// <param name="FromSequence">The first message this compaction folded in.</param>
/// <param name="ThroughSequence">The last message the summary covers.</param>
/// <param name="AtSequence">The session's last message when the compaction was made.</param>
/// <param name="Summary">The summary text, without the heading the history puts before it.</param>
/// <param name="TokenCount">Exact tokens of <paramref name="Summary"/> in the service's tokenizer.</param>
/// <param name="Summarizer"><c>extractive</c> or <c>model</c>.</param>
/// <param name="Model">The chat model that wrote it; null for extractive.</param>
/// <param name="PromptHash">SHA-256 (hex) of the prompt a model summary was asked with; null for extractive.</param>
/// <param name="Trigger"><c>auto</c> (a turn reached the threshold) or <c>manual</c> (<see cref="IContextCompilerClient.CompactAsync"/>).</param>
/// <param name="FallbackReason">Why the model's summary was replaced by the extractive one; null when it was not.</param>
public sealed record Compaction(
    string Id, int Number, long FromSequence, long ThroughSequence, long AtSequence, string Summary, int TokenCount, string Summarizer,
    string? Model, string? PromptHash, string Trigger, string? FallbackReason, DateTimeOffset CreatedAt);

/// <summary>A session's context usage; every token figure is exact in the service's tokenizer.</summary>
/// <param name="Messages">Stored messages.</param>
/// <param name="MessageTokens">Their tokens, each message rendered as the history renders it and counted alone.</param>
/// <param name="HistoryBudget">The history budget the window was measured at.</param>
/// <param name="HistoryTokens">Exact tokens of the window's text (summary, separators and messages).</param>
/// <param name="HistoryMessages">Messages the window holds after its summary.</param>
/// <param name="SummaryTokens">Tokens of the summary block in the window (heading included); 0 without one.</param>
/// <param name="SummaryThroughSequence">The last message the summary in force covers; null before the first compaction.</param>
/// <param name="Compactions">Compactions stored.</param>
/// <param name="EvictedMessages">Messages neither in the window nor covered by the summary: what the next compaction folds.</param>
/// <param name="EvictedTokens">Their tokens, counted alone.</param>
/// <param name="BudgetUsed">HistoryTokens / HistoryBudget.</param>
/// <param name="Compaction">The settings in force, every part filled in.</param>
public sealed record SessionUsage(
    int Messages, long MessageTokens, int HistoryBudget, int HistoryTokens, int HistoryMessages, int SummaryTokens, long? SummaryThroughSequence,
    int Compactions, int EvictedMessages, long EvictedTokens, double BudgetUsed, CompactionSettings Compaction);

/// <summary>What <see cref="IContextCompilerClient.CompactAsync"/> did.</summary>
/// <param name="Compacted">True when a compaction was stored by this call; false when there was nothing to fold.</param>
/// <param name="Compaction">The compaction in force afterwards (the new one, or the previous one); null when the session has none.</param>
/// <param name="Usage">The session's usage after the call, at the budget compacted for.</param>
public sealed record CompactionOutcome(bool Compacted, Compaction? Compaction, SessionUsage Usage);
