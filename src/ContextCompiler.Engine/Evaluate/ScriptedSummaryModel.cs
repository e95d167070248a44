using System.Globalization;
using System.Text.RegularExpressions;
using ContextCompiler.Core.Tokenization;
using ContextCompiler.Engine.Sessions;
using ContextCompiler.Engine.Sessions.Compacting;
using Microsoft.Extensions.AI;

namespace ContextCompiler.Engine.Evaluate;

/// <summary>
/// The stand-in for a summarising chat model in evaluations, since no model runs here: it answers the
/// <see cref="ChatClientSummarizer"/> prompt deterministically, the way an obedient model would in form. It keeps the
/// current summary, states each leaving question as the topic the user raised (its first clause), keeps each reply's first
/// sentence as the settled fact with its sources, and keeps within the token limit the prompt names. It measures the
/// model path (prompt, transcript, recursion, storage), not the quality of a real model's summaries.
/// </summary>
public sealed partial class ScriptedSummaryModel(ITokenizer tokenizer) : IChatClient
{
    /// <summary>The model id it reports.</summary>
    public const string ModelId = "scripted-summary-model";

    /// <inheritdoc />
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        int limit = Limit().Match(list[0].Text) is { Success: true } m ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 200;
        string transcript = list[^1].Text;
        int leaving = transcript.IndexOf(ChatClientSummarizer.LeavingHeading, StringComparison.Ordinal);
        string current = transcript[ChatClientSummarizer.CurrentSummaryHeading.Length..leaving];
        var lines = current == ChatClientSummarizer.NoSummary ? [] : current.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        foreach (var block in transcript[(leaving + ChatClientSummarizer.LeavingHeading.Length)..].Split(HistoryBuilder.Separator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (block.StartsWith("User: ", StringComparison.Ordinal))
            {
                lines.Add("- Topic raised: " + FirstClause(block["User: ".Length..]));
            }
            else if (block.StartsWith("Assistant: ", StringComparison.Ordinal))
            {
                string reply = block["Assistant: ".Length..];
                int cited = reply.LastIndexOf(" ([", StringComparison.Ordinal);
                var sources = cited < 0 ? [] : Sources().Matches(reply[cited..]).Select(s => s.Groups[1].Value).Distinct().ToList();
                string fact = ExtractiveSummarizer.FirstSentence(cited < 0 ? reply : reply[..cited]);
                lines.Add("- Settled: " + fact + (sources.Count == 0 ? string.Empty : $" ({string.Join("; ", sources)})"));
            }
        }

        string summary = ExtractiveSummarizer.Pack(lines, limit, tokenizer);
        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, summary.Length == 0 ? "- (nothing to keep)" : summary)) { ModelId = ModelId });
    }

    /// <inheritdoc />
    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The summariser does not stream.");

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("scripted", null, ModelId) : serviceType.IsInstanceOfType(this) ? this : null;

    /// <inheritdoc />
    public void Dispose()
    {
    }

    // A question's subject is in its first clause: "Going back to X, does it ...?" keeps "Going back to X".
    private static string FirstClause(string text)
    {
        int cut = text.IndexOfAny([',', ';', '?', '.']);
        string clause = cut > 0 ? text[..cut] : text;
        var words = clause.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return string.Join(' ', words.Take(20));
    }

    [GeneratedRegex(@"Write at most (\d+) tokens")]
    private static partial Regex Limit();

    // The transcript's sources: "([1] docs/wal.md:12-30; [2] …)" after a reply.
    [GeneratedRegex(@"\[\d+\] ([^;)\s]+)")]
    private static partial Regex Sources();
}
