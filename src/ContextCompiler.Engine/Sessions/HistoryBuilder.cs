using ContextCompiler.Core.Tokenization;
using ContextCompiler.Engine.Sessions.Compacting;

namespace ContextCompiler.Engine.Sessions;

/// <summary>
/// Fits a conversation into a token budget: messages rendered as <c>Role: content</c> blocks joined by a blank line,
/// newest first, whole messages only, counted exactly on the joined text so the separators are paid for too. After a
/// compaction the summary comes first, inside the same budget, and only the messages it does not cover follow it.
/// </summary>
public static class HistoryBuilder
{
    /// <summary>The text between two rendered messages.</summary>
    public const string Separator = "\n\n";

    /// <summary>
    /// The newest messages of <paramref name="messages"/> (oldest first) that fit <paramref name="budget"/>. By default the kept
    /// messages are the newest contiguous run; with <paramref name="skipOversized"/> a message that does not fit is passed over
    /// and older ones are still tried. With <paramref name="summary"/> (the compaction in force) the text starts with the
    /// summary and holds only messages after the ones it covers; a summary that alone exceeds the budget is left out.
    /// </summary>
    public static HistoryWindow Build(IReadOnlyList<Message> messages, int budget, ITokenizer tokenizer, bool skipOversized = false, Compaction? summary = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(budget);
        string prefix = summary is null ? string.Empty : RenderSummary(summary);
        int summaryTokens = summary is null ? 0 : tokenizer.CountTokens(prefix);
        if (summaryTokens > budget)
        {
            (summary, prefix, summaryTokens) = (null, string.Empty, 0);
        }

        long covered = summary?.ThroughSequence ?? 0;
        var kept = new List<Message>(); // newest first while building
        string text = string.Empty;
        int tokens = summaryTokens;
        for (int i = messages.Count - 1; i >= 0 && budget > 0 && messages[i].Sequence > covered; i--)
        {
            // Token counts of BPE text are not additive across a join, so the whole candidate text is counted again.
            string candidate = kept.Count == 0 ? Render(messages[i]) : Render(messages[i]) + Separator + text;
            int count = tokenizer.CountTokens(summary is null ? candidate : prefix + Separator + candidate);
            if (count <= budget)
            {
                kept.Add(messages[i]);
                (text, tokens) = (candidate, count);
            }
            else if (!skipOversized)
            {
                break;
            }
        }

        kept.Reverse();
        if (summary is not null)
        {
            text = kept.Count == 0 ? prefix : prefix + Separator + text;
        }

        // The contract callers rely on: the text sent never exceeds the history budget.
        if (tokens > budget || tokenizer.CountTokens(text) != tokens)
        {
            throw new InvalidOperationException($"History of {tokens} tokens does not match its text or exceeds its budget of {budget}.");
        }

        return new HistoryWindow(kept, text, tokens) { Summary = summary, SummaryTokens = summaryTokens };
    }

    /// <summary>A compaction's summary as the history carries it: a heading naming the messages it covers, then the summary.</summary>
    public static string RenderSummary(Compaction compaction) =>
        $"Summary of messages 1-{compaction.ThroughSequence} of this conversation:\n{compaction.Summary}";

    /// <summary>One message as the model sees it, for example <c>User: hello</c>.</summary>
    public static string Render(Message message) => $"{Label(message.Role)}: {message.Content}";

    private static string Label(string role) => role switch
    {
        MessageRoles.User => "User",
        MessageRoles.Assistant => "Assistant",
        MessageRoles.System => "System",
        MessageRoles.Tool => "Tool",
        _ => throw new ArgumentException($"Unknown role '{role}'.", nameof(role)),
    };
}
