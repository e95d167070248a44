using System.Text.Json;
using System.Text.Json.Serialization;

namespace ContextCompiler.Engine.Sessions;

/// <summary>Who wrote a message. Stored and sent in lower case.</summary>
public static class MessageRoles
{
    public const string User = "user";
    public const string Assistant = "assistant";
    public const string System = "system";
    public const string Tool = "tool";

    /// <summary>Every role a message may have.</summary>
    public static readonly IReadOnlyList<string> All = [User, Assistant, System, Tool];

    /// <summary>The role in canonical form, or an <see cref="ArgumentException"/> naming the allowed ones.</summary>
    public static string Parse(string? role)
    {
        var normalized = role?.Trim().ToLowerInvariant();
        return normalized is not null && All.Contains(normalized)
            ? normalized
            : throw new ArgumentException($"Unknown role '{role}'. Allowed: {string.Join(", ", All)}.", nameof(role));
    }
}

/// <summary>Whether a session still takes messages. Stored and sent in lower case.</summary>
public static class SessionStatus
{
    public const string Open = "open";
    public const string Closed = "closed";
}

/// <summary>Token budgets of a turn. Give context and history budgets, or a total split between them.</summary>
/// <param name="ContextBudget">Tokens of the working set.</param>
/// <param name="HistoryBudget">Tokens of the conversation history.</param>
/// <param name="TotalBudget">Tokens of both together; split by <paramref name="ContextShare"/> where the parts are not given.</param>
/// <param name="ContextShare">The working set's share of a total budget, in (0, 1).</param>
public sealed record SessionBudgets(int? ContextBudget = null, int? HistoryBudget = null, int? TotalBudget = null, double? ContextShare = null);

/// <summary>A conversation with its counts. <see cref="Metadata"/> is the caller's JSON, returned as given.</summary>
public sealed record Session(
    string Id, string? UserId, string Status, [property: JsonConverter(typeof(VerbatimJsonConverter))] JsonElement? Metadata, SessionBudgets? DefaultBudgets,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, int MessageCount)
{
    /// <summary>The tenant owning the session; never sent to clients.</summary>
    [JsonIgnore]
    public string Tenant { get; init; } = string.Empty;

    /// <summary>The session's own compaction settings; null parts (or null, left out) take the service's.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Compacting.CompactionSettings? Compaction { get; init; }
}

/// <summary>One stored message. <see cref="Sequence"/> numbers a session's messages 1, 2, 3… without gaps.</summary>
public sealed record Message(
    string Id, string Role, string Content, long Sequence, DateTimeOffset CreatedAt, [property: JsonConverter(typeof(VerbatimJsonConverter))] JsonElement? Metadata)
{
    /// <summary>
    /// For an assistant message after a turn: its <c>[n]</c> markers checked against that turn's working set (unknown
    /// markers are citations the working set does not have). Null for other messages.
    /// </summary>
    public Core.Cite.CitationCheck? CitationCheck { get; init; }
}

/// <summary>What a new session starts with.</summary>
public sealed record NewSession(string? UserId = null, JsonElement? Metadata = null, SessionBudgets? DefaultBudgets = null, Compacting.CompactionSettings? Compaction = null);

/// <summary>Filters, order and page of a session listing.</summary>
/// <param name="OrderBy">createdAt, updatedAt or messageCount.</param>
/// <param name="Direction">asc or desc.</param>
public sealed record SessionQuery(
    string? UserId = null, string? Status = null, DateTimeOffset? CreatedAfter = null, DateTimeOffset? CreatedBefore = null,
    DateTimeOffset? UpdatedAfter = null, DateTimeOffset? UpdatedBefore = null, string? OrderBy = null, string? Direction = null,
    int? Limit = null, int? Offset = null);

/// <summary>One page of sessions and how many match in all.</summary>
public sealed record SessionPage(IReadOnlyList<Session> Items, int Total);

/// <summary>The conversation as sent to a model: whole messages, newest kept, counted exactly with separators.</summary>
/// <param name="Text">The messages as <c>User: …</c> / <c>Assistant: …</c> blocks joined by a blank line.</param>
/// <param name="TokenCount">Exact tokens of <paramref name="Text"/>.</param>
public sealed record HistoryWindow(IReadOnlyList<Message> Messages, string Text, int TokenCount)
{
    /// <summary>The compaction whose summary <see cref="Text"/> starts with; null when it has none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public Compacting.Compaction? Summary { get; init; }

    /// <summary>Exact tokens of the summary block on its own (heading included); 0 without one.</summary>
    public int SummaryTokens { get; init; }
}

/// <summary>A turn's input.</summary>
/// <param name="SkipOversized">Keep older messages past a newer one that alone does not fit.</param>
/// <param name="Tokenizer">Count both budgets in this encoding or model's tokens (for example <c>gpt-4o</c>); null for the service's.</param>
/// <param name="Compaction">This turn's compaction settings over the session's; null for the session's.</param>
public sealed record TurnRequest(
    string Message, SessionBudgets? Budgets = null, bool Explain = false, bool SkipOversized = false, string? Tokenizer = null, Compacting.CompactionSettings? Compaction = null);

/// <summary>
/// A stored turn. <see cref="WorkingSet"/> is the serialized working set exactly as stored, so a reply and a
/// later replay carry the same bytes.
/// </summary>
/// <param name="Usage">The session's context usage with this turn stored, its history as the window.</param>
/// <param name="Compaction">The compaction this turn made before building its history; null when it made none.</param>
public sealed record TurnResult(
    Message UserMessage, RawJson WorkingSet, int ContextTokens, HistoryWindow History, int ContextBudget, int HistoryBudget, Compacting.SessionUsage Usage,
    Compacting.Compaction? Compaction);

/// <summary>One step of a replay: a user message, its working set, the answer, and anything else said before the next user message.
/// The three parts are always written, as null when absent (an unfinished last turn has assistantMessage: null).</summary>
public sealed record ReplayTurn(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] Message? UserMessage,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] RawJson? WorkingSet,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] Message? AssistantMessage,
    IReadOnlyList<Message> ExtraMessages)
{
    /// <summary>Compactions made after this turn's messages and before the next turn's, each with the summary and the messages it folded.</summary>
    public IReadOnlyList<Compacting.Compaction> Compactions { get; init; } = [];
}

/// <summary>A whole session as it happened, with its context usage now.</summary>
public sealed record SessionReplay(Session Session, IReadOnlyList<ReplayTurn> Turns)
{
    /// <summary>The session's context usage at its latest turn's history budget (see GET /usage).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Compacting.SessionUsage? Usage { get; init; }
}
