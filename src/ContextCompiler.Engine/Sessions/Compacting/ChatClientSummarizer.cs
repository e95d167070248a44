using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;

namespace ContextCompiler.Engine.Sessions.Compacting;

/// <summary>
/// The model summariser: asks an <see cref="IChatClient"/> (any OpenAI-compatible endpoint, as <c>contextc chat</c> takes)
/// to fold the evicted messages into the previous summary, keeping facts, decisions, open questions and the sources that
/// mattered. A summary over budget is cut to it; an empty answer is a failure (see <see cref="FallbackSummarizer"/>).
/// </summary>
public sealed class ChatClientSummarizer(IChatClient client, string? model = null) : IConversationSummarizer
{
    /// <summary>The name stored with its summaries.</summary>
    public const string Name = "model";

    /// <summary>The instructions; their hash is stored with each summary, so a changed prompt shows in the replay.</summary>
    public const string Prompt = """
        You maintain the running summary of a conversation between a user and an assistant that answers from cited
        documentation. You get the current summary (possibly empty) and the messages that are leaving the conversation's
        window. Write the new summary: the old one updated with the new messages, never a summary of the new messages alone.
        Keep, as short bullet lines starting with "- ":
        - facts the conversation settled, with exact names (functions, statements, settings, values, versions);
        - decisions the user made and what they are working on;
        - questions still open;
        - the sources that mattered, exactly as given in parentheses (for example "(docs/wal.md:12-30)").
        Drop greetings, repetition and anything superseded. Write at most {0} tokens. Answer with the summary only.
        """;

    /// <summary>What <see cref="Transcript"/> starts with, before the current summary.</summary>
    public const string CurrentSummaryHeading = "Current summary:\n";

    /// <summary>What <see cref="Transcript"/> writes for the current summary before the first compaction.</summary>
    public const string NoSummary = "(none)";

    /// <summary>What separates the current summary from the leaving messages in <see cref="Transcript"/>.</summary>
    public const string LeavingHeading = "\n\nLeaving the window:\n";

    /// <summary>SHA-256 of <see cref="Prompt"/> as lower-case hex.</summary>
    public static string PromptHash { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Prompt)));

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The model answered with no text.</exception>
    public async Task<Summary> SummarizeAsync(SummaryRequest request, CancellationToken cancellationToken = default)
    {
        string modelId = model ?? client.GetService<ChatClientMetadata>()?.DefaultModelId ?? "unknown";
        var messages = new List<ChatMessage>
        {
            new(ChatRole.System, string.Format(CultureInfo.InvariantCulture, Prompt, request.MaxTokens)),
            new(ChatRole.User, Transcript(request)),
        };
        var response = await client.GetResponseAsync(messages, new ChatOptions { ModelId = model, Temperature = 0 }, cancellationToken);
        string text = response.Text.Trim();
        if (text.Length == 0)
        {
            throw new InvalidOperationException($"The model '{modelId}' returned an empty summary.");
        }

        return new Summary(ExtractiveSummarizer.Cut(text, request.MaxTokens, request.Tokenizer), Name, response.ModelId ?? modelId, PromptHash);
    }

    /// <summary>What the model is asked to fold: the current summary, then each leaving message with the sources it cited.</summary>
    public static string Transcript(SummaryRequest request)
    {
        var text = new StringBuilder();
        text.Append(CurrentSummaryHeading).Append(string.IsNullOrWhiteSpace(request.PreviousSummary) ? NoSummary : request.PreviousSummary).Append(LeavingHeading);
        foreach (var message in request.Messages)
        {
            text.Append(HistoryBuilder.Render(message));
            if (request.Citations.GetValueOrDefault(message.Id) is { Count: > 0 } sources)
            {
                text.Append(" (").AppendJoin("; ", sources.Select(s => $"[{s.N}] {s}")).Append(')');
            }

            text.Append(HistoryBuilder.Separator);
        }

        return text.ToString().TrimEnd();
    }
}
