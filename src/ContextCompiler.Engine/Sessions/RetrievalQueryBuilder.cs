using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Retrieve;

namespace ContextCompiler.Engine.Sessions;

/// <summary>
/// Forms a turn's compile request from the conversation: the message is the query; the recent user messages and the
/// assistant's last reply form the retrieval context, weighted below it. Without weighting (the earlier behaviour),
/// the user messages are joined into the query itself.
/// </summary>
public sealed class RetrievalQueryBuilder(SessionStoreOptions options)
{
    /// <summary>The compile request of <paramref name="message"/> after the <paramref name="earlier"/> messages, retrieving only what <paramref name="filter"/> passes.</summary>
    /// <param name="summary">The summary in force; with <see cref="SessionStoreOptions.RetrievalSummary"/> it joins the context as its first message.</param>
    public CompileRequest For(
        IReadOnlyList<Message> earlier, string message, int budget, bool explain, string? tokenizer, RetrievalFilter? filter = null, string? summary = null)
    {
        var users = earlier.Where(m => m.Role == MessageRoles.User).TakeLast(Math.Max(0, options.RetrievalUserMessages)).Select(m => m.Content).ToList();
        if (!options.WeightRetrievalContext)
        {
            return new CompileRequest(message, budget, filter, options.CompilerOptions, explain, Tokenizer: tokenizer,
                RetrievalQuery: users.Count == 0 ? null : string.Join("\n", [.. users, message]));
        }

        // Follow-ups often name their subject only in the assistant's reply ("Use PRAGMA journal_mode=WAL").
        var replies = earlier.Where(m => m.Role == MessageRoles.Assistant).TakeLast(Math.Max(0, options.RetrievalAssistantMessages)).Select(m => m.Content);
        // What the conversation settled before its recent messages: only a compaction's summary still holds it.
        string[] settled = options.RetrievalSummary && !string.IsNullOrWhiteSpace(summary) ? [summary] : [];
        var messages = settled.Concat(users).Concat(replies).ToList();
        var context = string.Join("\n", messages);
        return new CompileRequest(message, budget, filter, options.CompilerOptions, explain, Tokenizer: tokenizer,
            RetrievalContext: context.Length == 0 ? null : context, RetrievalContextMessages: messages.Count == 0 ? null : messages);
    }
}
