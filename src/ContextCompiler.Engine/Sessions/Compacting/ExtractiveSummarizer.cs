using System.Text.RegularExpressions;
using ContextCompiler.Core.Tokenization;

namespace ContextCompiler.Engine.Sessions.Compacting;

/// <summary>
/// The deterministic summariser, used without a chat model and whenever the model fails: one line per evicted user
/// question and one per assistant reply (its first sentence and the sources it cited), appended to the previous summary's
/// lines and packed to the budget. Packing keeps the opening exchange, which usually names the conversation's subject,
/// and drops the oldest lines after it first.
/// </summary>
public sealed partial class ExtractiveSummarizer : IConversationSummarizer
{
    /// <summary>The name stored with its summaries.</summary>
    public const string Name = "extractive";

    // A question or a reply's first sentence longer than this is cut: one long message must not crowd out the rest.
    private const int MaxLineTokens = 60;

    // The opening user question and its answer, kept while anything is (see the class summary).
    private const int OpeningLines = 2;

    /// <inheritdoc />
    public Task<Summary> SummarizeAsync(SummaryRequest request, CancellationToken cancellationToken = default) =>
        Task.FromResult(new Summary(Summarize(request), Name));

    /// <summary>The summary text, at most <see cref="SummaryRequest.MaxTokens"/> tokens; empty when not even one word fits.</summary>
    public static string Summarize(SummaryRequest request)
    {
        var lines = new List<string>();
        if (!string.IsNullOrWhiteSpace(request.PreviousSummary))
        {
            lines.AddRange(request.PreviousSummary.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        foreach (var message in request.Messages)
        {
            if (Line(message, request) is { } line)
            {
                lines.Add(line);
            }
        }

        return Pack(lines, request.MaxTokens, request.Tokenizer);
    }

    private static string? Line(Message message, SummaryRequest request)
    {
        string text = Collapse(message.Content);
        switch (message.Role)
        {
            case MessageRoles.User:
                return "- User asked: " + Cut(text, MaxLineTokens, request.Tokenizer);
            case MessageRoles.Assistant:
                string sentence = Cut(FirstSentence(text), MaxLineTokens, request.Tokenizer);
                var sources = request.Citations.GetValueOrDefault(message.Id) ?? [];
                // One location per document: the summary keeps where an answer came from, not every span.
                var cited = sources.GroupBy(s => (s.Corpus, s.Path)).Select(g => g.First().ToString()).ToList();
                return "- Assistant: " + sentence + (cited.Count == 0 ? string.Empty : $" ({string.Join("; ", cited)})");
            case MessageRoles.System:
                return "- System: " + Cut(FirstSentence(text), MaxLineTokens, request.Tokenizer);
            default:
                // Tool output is data for one answer, not something the conversation settled.
                return null;
        }
    }

    /// <summary>The lines joined, after dropping the oldest after the opening exchange until they fit <paramref name="maxTokens"/>.</summary>
    internal static string Pack(List<string> lines, int maxTokens, ITokenizer tokenizer)
    {
        string Join() => string.Join("\n", lines);
        while (lines.Count > 1 && tokenizer.CountTokens(Join()) > maxTokens)
        {
            // Drop the oldest line after the opening exchange; once only the opening is left, its newest line.
            lines.RemoveAt(lines.Count > OpeningLines ? OpeningLines : lines.Count - 1);
        }

        // A small budget still keeps the start of the conversation's first line rather than nothing.
        return lines.Count == 1 ? Cut(lines[0], maxTokens, tokenizer) : Join();
    }

    /// <summary>The text's first sentence (all of it when it has one only).</summary>
    internal static string FirstSentence(string text)
    {
        var match = SentenceEnd().Match(text);
        return match.Success ? text[..(match.Index + 1)] : text;
    }

    /// <summary>The longest run of whole words of <paramref name="text"/> within <paramref name="maxTokens"/>, marked with … when cut.</summary>
    internal static string Cut(string text, int maxTokens, ITokenizer tokenizer)
    {
        if (tokenizer.CountTokens(text) <= maxTokens)
        {
            return text;
        }

        var words = text.Split(' ');
        int low = 0, high = words.Length;
        // Binary search on the number of words: counting is monotone enough in practice, and every length kept passed the exact count.
        while (low < high)
        {
            int middle = (low + high + 1) / 2;
            if (tokenizer.CountTokens(string.Join(' ', words.Take(middle)) + " …") <= maxTokens)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return low == 0 ? string.Empty : string.Join(' ', words.Take(low)) + " …";
    }

    private static string Collapse(string text) => Whitespace().Replace(text, " ").Trim();

    // A sentence ends at . ! or ? followed by a space and a capital, a backtick or a digit; "e.g. this" does not end one.
    [GeneratedRegex(@"[.!?](?=\s+[A-Z`0-9(\[])")]
    private static partial Regex SentenceEnd();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
