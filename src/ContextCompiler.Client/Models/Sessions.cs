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
public sealed record CreateSessionRequest(string? UserId = null, JsonElement? Metadata = null, SessionBudgets? DefaultBudgets = null)
{
    /// <summary>The <c>Idempotency-Key</c> of this call; null for a new GUID. Every retry of the call sends the same key.</summary>
    [JsonIgnore]
    public string? IdempotencyKey { get; init; }
}

/// <summary>A conversation with its message count. <see cref="Status"/> is "open" or "closed".</summary>
/// <param name="Metadata">The caller's JSON as stored. Record equality compares a <see cref="JsonElement"/> by the document
/// it came from, so compare two sessions' metadata with <see cref="JsonElement.DeepEquals"/>.</param>
public sealed record Session(
    string Id, string? UserId, string Status, JsonElement? Metadata, SessionBudgets? DefaultBudgets,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, int MessageCount);

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
public sealed record TurnRequest(
    string Message, int? ContextBudget = null, int? HistoryBudget = null, int? TotalBudget = null, bool? Explain = null, bool? SkipOversized = null,
    string? Tokenizer = null)
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
public sealed record TurnResponse(
    Message UserMessage, StoredWorkingSet WorkingSet, HistoryWindow History, int ContextBudget, int HistoryBudget, int ContextTokens, int HistoryTokens, int TotalTokens);

/// <summary>The conversation as sent to a model: whole messages, newest kept, counted exactly.</summary>
/// <param name="Text">The messages as <c>User: …</c> / <c>Assistant: …</c> blocks joined by a blank line.</param>
public sealed record HistoryWindow(IReadOnlyList<Message> Messages, string Text, int TokenCount);

/// <summary>One step of a replay: a user message, its stored working set, the answer, and anything else said before the next user message.</summary>
/// <param name="AssistantMessage">Null for an unanswered last turn.</param>
public sealed record ReplayTurn(Message? UserMessage, StoredWorkingSet? WorkingSet, Message? AssistantMessage, IReadOnlyList<Message> ExtraMessages);

/// <summary>A whole session as it happened.</summary>
public sealed record SessionReplay(Session Session, IReadOnlyList<ReplayTurn> Turns);
