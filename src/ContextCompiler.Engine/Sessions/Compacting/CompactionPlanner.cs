using ContextCompiler.Core.Tokenization;

namespace ContextCompiler.Engine.Sessions.Compacting;

/// <summary>
/// Decides what a compaction folds. Pure: messages, the compaction in force, a budget and a tokenizer in, messages out.
/// </summary>
public static class CompactionPlanner
{
    // Room left for the summary's heading and the blank line after it, beyond the summary's own budget.
    private const int HeadingAllowance = 16;

    /// <summary>
    /// The messages that have left the history <paramref name="window"/> and that <paramref name="latest"/> does not cover:
    /// older than the window's newest message and not in it.
    /// </summary>
    public static IReadOnlyList<Message> Evicted(IReadOnlyList<Message> messages, HistoryWindow window, Compaction? latest)
    {
        long covered = latest?.ThroughSequence ?? 0;
        var kept = window.Messages.Select(m => m.Sequence).ToHashSet();
        long newest = window.Messages.Count > 0 ? window.Messages[^1].Sequence : long.MaxValue;
        return messages.Where(m => m.Sequence > covered && m.Sequence < newest && !kept.Contains(m.Sequence)).ToList();
    }

    /// <summary>
    /// The messages to fold into the next summary: every message after <paramref name="latest"/>'s that would not fit the
    /// history beside a summary of <paramref name="summaryBudget"/> tokens. Always includes what <see cref="Evicted"/> returns;
    /// empty when everything fits.
    /// </summary>
    public static IReadOnlyList<Message> Fold(
        IReadOnlyList<Message> messages, int historyBudget, int summaryBudget, Compaction? latest, ITokenizer tokenizer, bool skipOversized)
    {
        long covered = latest?.ThroughSequence ?? 0;
        var open = messages.Where(m => m.Sequence > covered).ToList();
        int recentBudget = Math.Max(0, historyBudget - summaryBudget - HeadingAllowance);
        var recent = HistoryBuilder.Build(open, recentBudget, tokenizer, skipOversized);
        long firstKept = recent.Messages.Count > 0 ? recent.Messages[0].Sequence : long.MaxValue;
        return open.Where(m => m.Sequence < firstKept).ToList();
    }
}

/// <summary>Measures a session's context usage (see <see cref="SessionUsage"/>).</summary>
public static class UsageMeter
{
    /// <summary>
    /// The usage of a session holding <paramref name="stored"/> messages whose history is <paramref name="window"/>, with
    /// <paramref name="evicted"/> the messages that have left the window unsummarised.
    /// </summary>
    public static SessionUsage Measure(
        IReadOnlyList<Message> stored, HistoryWindow window, int historyBudget, IReadOnlyList<Message> evicted,
        IReadOnlyList<Compaction> compactions, CompactionSettings settings, ITokenizer tokenizer)
    {
        long Tokens(IEnumerable<Message> messages) => messages.Sum(m => (long)tokenizer.CountTokens(HistoryBuilder.Render(m)));
        return new SessionUsage(
            stored.Count, Tokens(stored), historyBudget, window.TokenCount, window.Messages.Count, window.SummaryTokens,
            compactions.Count > 0 ? compactions[^1].ThroughSequence : null, compactions.Count, evicted.Count, Tokens(evicted),
            historyBudget == 0 ? 0 : Math.Round((double)window.TokenCount / historyBudget, 4), settings);
    }
}
