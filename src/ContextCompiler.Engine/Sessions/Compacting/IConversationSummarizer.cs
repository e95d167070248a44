using ContextCompiler.Core.Tokenization;

namespace ContextCompiler.Engine.Sessions.Compacting;

/// <summary>A source an assistant reply cited: its marker and where the span is.</summary>
public sealed record CitedSource(int N, string Corpus, string Path, int StartLine, int EndLine)
{
    /// <summary>The source as a summary keeps it, for example <c>sqlite-docs/wal.md:12-30</c>.</summary>
    public override string ToString() => $"{Corpus}/{Path}:{StartLine}-{EndLine}";
}

/// <summary>What a summariser folds: the summary in force, the messages newly evicted, and the budget to fit.</summary>
/// <param name="PreviousSummary">The previous compaction's summary, or null for the first.</param>
/// <param name="Messages">The newly evicted messages, oldest first.</param>
/// <param name="Citations">For each assistant message (by id) the sources its <c>[n]</c> markers cite in the turn it answers.</param>
/// <param name="MaxTokens">The summary's budget in <paramref name="Tokenizer"/>'s tokens; the result must not exceed it.</param>
public sealed record SummaryRequest(
    string? PreviousSummary, IReadOnlyList<Message> Messages, IReadOnlyDictionary<string, IReadOnlyList<CitedSource>> Citations, int MaxTokens, ITokenizer Tokenizer);

/// <summary>A summary and who wrote it.</summary>
/// <param name="Summarizer"><c>extractive</c> or <c>model</c>.</param>
/// <param name="Model">The chat model; null for extractive.</param>
/// <param name="PromptHash">SHA-256 (hex) of the prompt template; null for extractive.</param>
/// <param name="FallbackReason">Why a model summary was replaced by an extractive one; null otherwise.</param>
public sealed record Summary(string Text, string Summarizer, string? Model = null, string? PromptHash = null, string? FallbackReason = null);

/// <summary>
/// Folds evicted messages into a running summary. Recursive: the new summary is built from the previous one plus the
/// newly evicted messages, never from the whole conversation, so its cost does not grow with the session.
/// </summary>
public interface IConversationSummarizer
{
    /// <summary>The summary of <see cref="SummaryRequest.PreviousSummary"/> and <see cref="SummaryRequest.Messages"/>, within <see cref="SummaryRequest.MaxTokens"/>.</summary>
    Task<Summary> SummarizeAsync(SummaryRequest request, CancellationToken cancellationToken = default);
}
