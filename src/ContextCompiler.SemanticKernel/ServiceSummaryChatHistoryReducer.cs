using System.Globalization;
using ContextCompiler.Client;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace ContextCompiler.SemanticKernel;

/// <summary>
/// An <see cref="IChatHistoryReducer"/> that reduces a chat history to the ContextCompiler service's own view of the same
/// conversation: the caller's leading instructions, one system message holding the service's summary of the older
/// messages, then the recent messages the service's history window kept. The summary is the service's (stored by its
/// compaction); this reducer never calls a model.
/// </summary>
/// <remarks>
/// <para>
/// The history must mirror the service session <see cref="SessionId"/>: after any leading system or developer messages (the
/// caller's instructions, which are not stored in the session and are always kept), its messages are the session's stored
/// messages in order, as when each one is stored through the client as it is added, possibly followed by newer messages
/// not stored yet, which are kept. A history out of step with the session is an <see cref="InvalidOperationException"/>
/// rather than a guess.
/// </para>
/// <para>
/// Each reduction first compacts the session through <c>POST /compact</c> for <see cref="HistoryBudget"/> (unless
/// <see cref="CompactFirst"/> is off; the call is idempotent, so a reduction with nothing new to fold stores nothing), then
/// reads <c>GET /history</c> at that budget. The summary message carries <see cref="FirstSequenceKey"/> in its metadata, so
/// a reduced history is recognised and reduced again correctly.
/// </para>
/// </remarks>
public sealed class ServiceSummaryChatHistoryReducer : IChatHistoryReducer
{
    /// <summary>The summary message's metadata key: the sequence number of the first message after it.</summary>
    public const string FirstSequenceKey = "ContextCompiler.FirstSequence";

    /// <summary>The summary message's metadata key: the id of the compaction whose summary it holds.</summary>
    public const string CompactionIdKey = "ContextCompiler.CompactionId";

    private readonly IContextCompilerClient _client;

    /// <summary>A reducer of histories that mirror <paramref name="sessionId"/>, to the service's window of <paramref name="historyBudget"/> tokens.</summary>
    public ServiceSummaryChatHistoryReducer(IContextCompilerClient client, string sessionId, int historyBudget)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        ArgumentException.ThrowIfNullOrWhiteSpace(sessionId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(historyBudget);
        SessionId = sessionId;
        HistoryBudget = historyBudget;
    }

    /// <summary>The service session the history mirrors.</summary>
    public string SessionId { get; }

    /// <summary>The history budget, in the service's tokens of the rendered conversation (summary block included).</summary>
    public int HistoryBudget { get; }

    /// <summary>Compact the session before reading its history (true by default), so what leaves the window is summarised, not lost.</summary>
    public bool CompactFirst { get; init; } = true;

    /// <inheritdoc />
    /// <returns>The reduced messages, or null when the service's window keeps the whole conversation and there is no summary to add.</returns>
    /// <exception cref="InvalidOperationException">The history's messages are not the session's stored messages in order.</exception>
    public async Task<IEnumerable<ChatMessageContent>?> ReduceAsync(IReadOnlyList<ChatMessageContent> chatHistory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chatHistory);
        if (CompactFirst)
        {
            await _client.CompactAsync(SessionId, HistoryBudget, cancellationToken).ConfigureAwait(false);
        }

        var window = await _client.GetHistoryAsync(SessionId, HistoryBudget, cancellationToken: cancellationToken).ConfigureAwait(false);

        var instructions = new List<ChatMessageContent>();
        ChatMessageContent? previousSummary = null;
        int start = 0;
        for (; start < chatHistory.Count && IsInstruction(chatHistory[start]); start++)
        {
            if (FirstSequence(chatHistory[start]) is not null)
            {
                previousSummary = chatHistory[start];
            }
            else
            {
                instructions.Add(chatHistory[start]);
            }
        }

        // The sequence number of the history's first conversation message: 1, or where an earlier reduction left it.
        long offset = (previousSummary is null ? 1 : FirstSequence(previousSummary)!.Value) - 1;
        var conversation = chatHistory.Skip(start).ToList();
        foreach (var kept in window.Messages)
        {
            long index = kept.Sequence - offset - 1;
            if (index < 0 || index >= conversation.Count || conversation[(int)index].Content != kept.Content
                || !string.Equals(conversation[(int)index].Role.Label, kept.Role, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"The chat history is out of step with session '{SessionId}': its message {kept.Sequence} ({kept.Role}) is not at the same place in the history. "
                    + "Store every conversation message in the session, in order, as it is added.");
            }
        }

        if (window.Summary is null && window.Messages.Count == 0)
        {
            // Nothing stored fits (or nothing is stored): the service gives nothing to reduce to.
            return null;
        }

        long first = window.Messages.Count > 0 ? window.Messages[0].Sequence : window.Summary!.ThroughSequence + 1;
        int drop = (int)Math.Max(0, first - offset - 1);
        bool sameSummary = previousSummary is null
            ? window.Summary is null
            : window.Summary is not null && Convert.ToString(previousSummary.Metadata?[CompactionIdKey], CultureInfo.InvariantCulture) == window.Summary.Id;
        if (drop == 0 && sameSummary)
        {
            return null;
        }

        var reduced = new List<ChatMessageContent>(instructions);
        if (window.Summary is not null)
        {
            reduced.Add(new ChatMessageContent(AuthorRole.System, window.SummaryBlock())
            {
                Metadata = new Dictionary<string, object?> { [FirstSequenceKey] = offset + drop + 1, [CompactionIdKey] = window.Summary.Id },
            });
        }

        reduced.AddRange(conversation.Skip(drop));
        return reduced;
    }

    /// <summary>Reducers of the same session, budget and client reduce alike; SK's agents key their channels by reducer.</summary>
    public override bool Equals(object? obj) => obj is ServiceSummaryChatHistoryReducer other
        && ReferenceEquals(other._client, _client) && other.SessionId == SessionId && other.HistoryBudget == HistoryBudget && other.CompactFirst == CompactFirst;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(nameof(ServiceSummaryChatHistoryReducer), SessionId, HistoryBudget, CompactFirst);

    private static bool IsInstruction(ChatMessageContent message) =>
        message.Role == AuthorRole.System || message.Role == AuthorRole.Developer;

    // Metadata may come back from serialization as a string or a JSON number rather than a long.
    private static long? FirstSequence(ChatMessageContent message) =>
        message.Metadata?.TryGetValue(FirstSequenceKey, out var value) == true && value is not null
            && long.TryParse(Convert.ToString(value, CultureInfo.InvariantCulture), NumberStyles.Integer, CultureInfo.InvariantCulture, out long sequence)
            ? sequence
            : null;
}
