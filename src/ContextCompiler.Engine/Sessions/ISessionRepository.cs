using System.Text.Json;
using ContextCompiler.Core.Cite;

namespace ContextCompiler.Engine.Sessions;

/// <summary>
/// Where sessions, their messages and working sets are kept: the seam between the session logic (turns, history,
/// replay, budgets) and a store. Every read and write is scoped to a tenant, and another tenant's session is simply not
/// found. An implementation must make <see cref="Append"/>'s sequence numbers gapless and unique per session even when
/// several processes write, and must write a claimed idempotency key in the same transaction as the row it answers for.
/// </summary>
public interface ISessionRepository
{
    /// <summary>The current time as the store stamps rows.</summary>
    DateTimeOffset Now();

    /// <summary>
    /// Inserts <paramref name="session"/> unless its user already has <paramref name="maxOpenPerUser"/> open sessions, and
    /// saves <paramref name="idempotency"/> with it.
    /// </summary>
    /// <exception cref="SessionCapacityException">The user is at the limit; nothing was written.</exception>
    /// <exception cref="IdempotencyKeyTakenException">A concurrent request saved the key first; nothing was written.</exception>
    void Insert(Session session, JsonElement? metadata, int? maxOpenPerUser, IdempotencyClaim<Session>? idempotency = null);

    /// <summary>The session, or null when the tenant has none with this id.</summary>
    Session? Find(string tenant, string id);

    /// <summary>A filtered, ordered page of the tenant's sessions and the number matching in all.</summary>
    /// <exception cref="ArgumentException">An unknown order, direction or status, or a bad page.</exception>
    SessionPage List(string tenant, SessionQuery query);

    /// <summary>Marks the session closed (a closed one is left as it is) and returns it.</summary>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    Session Close(string tenant, string id);

    /// <summary>Deletes the session with its messages and working sets; false when the tenant has no such session.</summary>
    bool Delete(string tenant, string id);

    /// <summary>The session's messages in order.</summary>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    IReadOnlyList<Message> Messages(string tenant, string id);

    /// <summary>The working set stored with each user message of the tenant's session, by message id, exactly as stored.</summary>
    IReadOnlyDictionary<string, RawJson> WorkingSets(string tenant, string sessionId);

    /// <summary>For each of the tenant's sessions among <paramref name="sessionIds"/> that has turns: its user turns and their working sets' tokens.</summary>
    IReadOnlyDictionary<string, (int Turns, long Tokens)> TurnTotals(string tenant, IEnumerable<string> sessionIds);

    /// <summary>The history and total budgets recorded with each user turn of the tenant's session, by message id.</summary>
    IReadOnlyDictionary<string, TurnBudgetRecord> TurnBudgets(string tenant, string sessionId);

    /// <summary>The working set of the latest user turn of the tenant's session, or null before its first turn.</summary>
    RawJson? LatestWorkingSet(string tenant, string sessionId);

    /// <summary>
    /// Appends one message with the next sequence number, in one transaction with its working set, the turn's
    /// <paramref name="budgets"/> and the <paramref name="idempotency"/> key's response: all of them or none.
    /// </summary>
    /// <param name="afterSequence">
    /// When given, the sequence of the last message the caller read (0 for none): if another writer (another replica or
    /// process) appended since, the append is refused rather than stored after a history it did not see.
    /// </param>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    /// <exception cref="SessionConflictException">The session is closed, or another message was appended after <paramref name="afterSequence"/>.</exception>
    /// <exception cref="IdempotencyKeyTakenException">A concurrent request saved the key first; nothing was written.</exception>
    Message Append(
        string tenant, string id, MessageDraft draft, TurnBudgetRecord? budgets = null, IdempotencyClaim<Message>? idempotency = null, long? afterSequence = null);

    /// <summary>Deletes sessions of every tenant last updated before <paramref name="cutoff"/>; returns how many.</summary>
    int DeleteUpdatedBefore(DateTimeOffset cutoff);
}

/// <summary>The seam's session reads that every store answers the same way, built on <see cref="ISessionRepository.Find"/>.</summary>
public static class SessionRepositoryExtensions
{
    /// <summary>The conflict of an append whose caller read the session before another writer appended to it.</summary>
    public static SessionConflictException StaleHistory(string id, long afterSequence, long last) =>
        new($"Another message was stored in session '{id}' (now at {last}, this turn read up to {afterSequence}) while this turn was compiled; send it again.");

    /// <summary>The session.</summary>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    public static Session Get(this ISessionRepository repository, string tenant, string id) =>
        repository.Find(tenant, id) ?? throw new SessionNotFoundException(id);
}

/// <summary>Idempotency keys with the responses they answered: the read side (the write is part of each session write).</summary>
public interface IIdempotencyKeyStore
{
    /// <summary>The unexpired record of <paramref name="key"/> for <paramref name="tenant"/>, or null.</summary>
    IdempotencyRecord? Find(string tenant, string key);

    /// <summary>Deletes expired keys of every tenant; returns how many.</summary>
    int PurgeExpired();
}

/// <summary>New ids for sessions and messages: 32 hex digits, ordered by creation time, the same in every store.</summary>
public static class SessionIds
{
    /// <summary>A new id.</summary>
    public static string New() => Guid.CreateVersion7().ToString("N");

    /// <summary>Whether <paramref name="id"/> has the form of an id (anything else cannot exist).</summary>
    public static bool IsWellFormed(string id) => id.Length == 32 && id.AsSpan().IndexOfAnyExcept("0123456789abcdef") < 0;
}

/// <summary>A user turn's history budget, the history's exact tokens, and the total budget when one was given (else null: context plus history).</summary>
public sealed record TurnBudgetRecord(int HistoryBudget, int HistoryTokens, int? TotalBudget);

/// <summary>A message about to be stored; the repository gives it its id, sequence number and time.</summary>
/// <param name="WorkingSet">A user message's serialized working set, stored with it.</param>
/// <param name="CitationCheck">An assistant reply's check against the turn it answers.</param>
public sealed record MessageDraft(string Role, string Content, JsonElement? Metadata, RawJson? WorkingSet = null, CitationCheck? CitationCheck = null);
