using System.Text.Json;
using System.Text.Json.Serialization;

namespace ContextCompiler.Client;

/// <summary>Who wrote a message, as the server spells it.</summary>
public static class MessageRoles
{
    public const string User = "user";
    public const string Assistant = "assistant";
    public const string System = "system";
    public const string Tool = "tool";
}

/// <summary>Token budgets of a turn: context and history budgets, or a total split between them by <paramref name="ContextShare"/>.</summary>
public sealed record SessionBudgets(int? ContextBudget = null, int? HistoryBudget = null, int? TotalBudget = null, double? ContextShare = null);

/// <summary>The body of <c>POST /v1/sessions</c>.</summary>
/// <param name="Metadata">Any JSON of the caller's; the server returns it as given.</param>
/// <param name="Compaction"><see cref="CompactionModes.Auto"/> or <see cref="CompactionModes.Off"/>; null for the service's.</param>
/// <param name="CompactionThreshold">How many messages must have left the history, unsummarised, before a turn compacts; null for the service's.</param>
/// <param name="SummaryShare">The summary's share of the history budget, in (0, 1); null for the service's.</param>
public sealed record CreateSessionRequest(
    string? UserId = null, JsonElement? Metadata = null, SessionBudgets? DefaultBudgets = null,
    string? Compaction = null, int? CompactionThreshold = null, double? SummaryShare = null)
{
    /// <summary>The <c>Idempotency-Key</c> of this call; null for a new GUID. Every retry of the call sends the same key.</summary>
    [JsonIgnore]
    public string? IdempotencyKey { get; init; }
}

/// <summary>A conversation with its message count. <see cref="Status"/> is "open" or "closed".</summary>
/// <param name="Metadata">The caller's JSON as stored. Record equality compares a <see cref="JsonElement"/> by the document
/// it came from, so compare two sessions' metadata with <see cref="JsonElement.DeepEquals"/>.</param>
/// <param name="Compaction">The session's own compaction settings; null (or null parts) for the service's.</param>
public sealed record Session(
    string Id, string? UserId, string Status, JsonElement? Metadata, SessionBudgets? DefaultBudgets,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, int MessageCount, CompactionSettings? Compaction = null);

/// <summary>Filters, order and page of <c>GET /v1/sessions</c>; null leaves a filter out.</summary>
/// <param name="OrderBy">createdAt, updatedAt or messageCount.</param>
/// <param name="Direction">asc or desc.</param>
public sealed record SessionQuery(
    string? UserId = null, string? Status = null, DateTimeOffset? CreatedAfter = null, DateTimeOffset? CreatedBefore = null,
    DateTimeOffset? UpdatedAfter = null, DateTimeOffset? UpdatedBefore = null, string? OrderBy = null, string? Direction = null,
    int? Limit = null, int? Offset = null);

/// <summary>One page of sessions and how many match in all.</summary>
public sealed record SessionPage(IReadOnlyList<Session> Items, int Total);

/// <summary>One stored message. <see cref="Sequence"/> numbers a session's messages 1, 2, 3… without gaps.</summary>
/// <param name="CitationCheck">For an assistant message after a turn: its <c>[n]</c> markers checked against that turn's working set.</param>
public sealed record Message(
    string Id, string Role, string Content, long Sequence, DateTimeOffset CreatedAt, JsonElement? Metadata = null, CitationCheck? CitationCheck = null);

/// <summary>How a reply's <c>[n]</c> markers used the working set of the turn it answers.</summary>
/// <param name="Markers">Every marker, repeats included.</param>
/// <param name="Used">Citations of the working set the reply refers to.</param>
/// <param name="Unknown">Numbers cited that the working set does not have: invented citations.</param>
/// <param name="Unused">Citations the reply never refers to.</param>
/// <param name="MarkedShare">SentencesWithMarker / Sentences.</param>
public sealed record CitationCheck(
    int Markers, IReadOnlyList<int> Used, IReadOnlyList<int> Unknown, IReadOnlyList<int> Unused, int Sentences, int SentencesWithMarker, double MarkedShare);

/// <summary>The body of <c>POST /v1/sessions/{id}/turns</c>. Give context and history budgets, or a total, or neither for the session's defaults.</summary>
/// <param name="SkipOversized">Keep older messages past a newer one that alone does not fit the history budget.</param>
/// <param name="Compaction">This turn's compaction mode over the session's: <see cref="CompactionModes.Auto"/> or <see cref="CompactionModes.Off"/>.</param>
/// <param name="CompactionThreshold">This turn's threshold of evicted, unsummarised messages over the session's.</param>
/// <param name="SummaryShare">This turn's summary share of the history budget over the session's.</param>
public sealed record TurnRequest(
    string Message, int? ContextBudget = null, int? HistoryBudget = null, int? TotalBudget = null, bool? Explain = null, bool? SkipOversized = null,
    string? Tokenizer = null, string? Compaction = null, int? CompactionThreshold = null, double? SummaryShare = null)
{
    /// <summary>The <c>Idempotency-Key</c> of this call; null for a new GUID. Every retry of the call sends the same key.</summary>
    [JsonIgnore]
    public string? IdempotencyKey { get; init; }
}

/// <summary>The body of <c>POST /v1/sessions/{id}/messages</c>: an assistant, system or tool message.</summary>
public sealed record AddMessageRequest(string Role, string Content, JsonElement? Metadata = null)
{
    /// <summary>The <c>Idempotency-Key</c> of this call; null for a new GUID. Every retry of the call sends the same key.</summary>
    [JsonIgnore]
    public string? IdempotencyKey { get; init; }
}

/// <summary>A turn's reply: the stored user message, its working set, the history to send with it, and the token accounting.</summary>
/// <param name="TotalTokens">ContextTokens + HistoryTokens; never above ContextBudget + HistoryBudget.</param>
/// <param name="Usage">The session's context usage with this turn stored, its history as the window.</param>
/// <param name="Compaction">The compaction this turn made before building its history; null when it made none.</param>
public sealed record TurnResponse(
    Message UserMessage, StoredWorkingSet WorkingSet, HistoryWindow History, int ContextBudget, int HistoryBudget, int ContextTokens, int HistoryTokens, int TotalTokens,
    SessionUsage Usage, Compaction? Compaction = null);

/// <summary>
/// The conversation as sent to a model: whole messages, newest kept, counted exactly. After a compaction the text starts
/// with the summary in force, and <see cref="Messages"/> holds only messages it does not cover.
/// </summary>
/// <param name="Text">The summary block, if any, then the messages as <c>User: …</c> / <c>Assistant: …</c> blocks, joined by blank lines.</param>
/// <param name="Summary">The compaction whose summary <paramref name="Text"/> starts with; null when it has none.</param>
/// <param name="SummaryTokens">Exact tokens of the summary block on its own (heading included); 0 without one.</param>
public sealed record HistoryWindow(IReadOnlyList<Message> Messages, string Text, int TokenCount, Compaction? Summary = null, int SummaryTokens = 0)
{
    /// <summary>The text between the summary block and each message in <see cref="Text"/>.</summary>
    public const string Separator = "\n\n";

    /// <summary>
    /// The summary block exactly as <see cref="Text"/> starts with it (the service's heading naming the messages it covers,
    /// then the summary), or null without a summary: what a client puts before the messages instead of summarising itself.
    /// </summary>
    /// <exception cref="FormatException"><see cref="Text"/> does not end with <see cref="Messages"/> as the service renders them.</exception>
    public string? SummaryBlock()
    {
        if (Summary is null)
        {
            return null;
        }

        // The text is the block, then each message rendered, all joined by the separator: cutting the messages off the
        // end leaves the block as the service wrote and counted it, without rebuilding its heading here.
        string messages = string.Join(Separator, Messages.Select(Render));
        string tail = messages.Length == 0 ? string.Empty : Separator + messages;
        if (!Text.EndsWith(tail, StringComparison.Ordinal) || Text.Length == tail.Length)
        {
            throw new FormatException("The history's text does not end with its messages as 'Role: content' blocks; the service's layout may have changed.");
        }

        return Text[..^tail.Length];
    }

    /// <summary>One message as the service renders it in <see cref="Text"/>, for example <c>User: hello</c>.</summary>
    public static string Render(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        string label = message.Role switch
        {
            MessageRoles.User => "User",
            MessageRoles.Assistant => "Assistant",
            MessageRoles.System => "System",
            MessageRoles.Tool => "Tool",
            _ => message.Role,
        };
        return label + ": " + message.Content;
    }
}

/// <summary>One step of a replay: a user message, its stored working set, the answer, and anything else said before the next user message.</summary>
/// <param name="AssistantMessage">Null for an unanswered last turn.</param>
public sealed record ReplayTurn(Message? UserMessage, StoredWorkingSet? WorkingSet, Message? AssistantMessage, IReadOnlyList<Message> ExtraMessages)
{
    /// <summary>Compactions made after this turn's messages and before the next turn's, oldest first.</summary>
    public IReadOnlyList<Compaction> Compactions { get; init; } = [];
}

/// <summary>A whole session as it happened.</summary>
/// <param name="Usage">The session's context usage at its latest turn's history budget.</param>
public sealed record SessionReplay(Session Session, IReadOnlyList<ReplayTurn> Turns, SessionUsage? Usage = null);
