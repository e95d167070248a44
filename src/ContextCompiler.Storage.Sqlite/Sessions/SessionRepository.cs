using System.Globalization;
using System.Text.Json;
using ContextCompiler.Core.Cite;
using ContextCompiler.Engine.Index;
using Microsoft.Data.Sqlite;
using ContextCompiler.Engine.Sessions;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>
/// The SQLite <see cref="ISessionRepository"/>: the SQL of sessions, messages and working sets, and the mapping of their
/// rows. Knows nothing of budgets, compiling or locks.
/// </summary>
public sealed class SessionRepository(IndexStore store, IdempotencyKeys idempotencyKeys, TimeProvider? clock = null) : ISessionRepository
{
    private const string SessionColumns = "id, tenant, user_id, status, metadata, budgets, created_at, updated_at, message_count, compaction";
    private const string MessageColumns = "id, role, content, sequence, created_at, metadata, citation_check";

    private readonly TimeProvider _clock = clock ?? store.Clock;

    // SQLite allows one writer at a time; queueing this process's writers here is far cheaper than letting them meet
    // SQLITE_BUSY and back off with sleeps, which showed up as hundreds of milliseconds of tail latency under concurrent turns.
    private readonly Lock _writeGate = new();

    /// <inheritdoc />
    public DateTimeOffset Now() => _clock.GetUtcNow();

    /// <inheritdoc />
    public void Insert(Session session, JsonElement? metadata, int? maxOpenPerUser, IdempotencyClaim<Session>? idempotency = null)
    {
        lock (_writeGate)
        {
            using var lease = store.Rent();
            using var transaction = lease.Connection.BeginTransaction(deferred: false);
            if (maxOpenPerUser is { } max && session.UserId is { } user)
            {
                using var count = Sql.Command(lease.Connection, transaction,
                    "SELECT COUNT(*) FROM sessions WHERE tenant = $tenant AND user_id = CAST($user AS TEXT) AND status = 'open'",
                    ("$tenant", session.Tenant), ("$user", ExactText.Bind(user)));
                if (Convert.ToInt32(count.ExecuteScalar(), CultureInfo.InvariantCulture) >= max)
                {
                    throw new SessionCapacityException($"User '{user}' already has {max} open sessions; close one first.");
                }
            }

            using var insert = Sql.Command(lease.Connection, transaction,
                $"INSERT INTO sessions ({SessionColumns}) VALUES ($id, $tenant, CAST($user AS TEXT), 'open', CAST($metadata AS TEXT), $budgets, $now, $now, 0, $compaction)",
                ("$id", session.Id), ("$tenant", session.Tenant), ("$user", ExactText.Bind(session.UserId)), ("$metadata", ExactText.Bind(RawText(metadata))),
                ("$budgets", session.DefaultBudgets is null ? null : JsonSerializer.Serialize(session.DefaultBudgets, SessionJson.Options)),
                ("$now", Timestamps.Format(session.CreatedAt)),
                ("$compaction", session.Compaction is null ? null : JsonSerializer.Serialize(session.Compaction, SessionJson.Options)));
            insert.ExecuteNonQuery();
            if (idempotency is not null)
            {
                idempotencyKeys.Save(lease.Connection, transaction, session.Tenant, idempotency, session);
            }

            transaction.Commit();
        }
    }

    /// <inheritdoc />
    public Session? Find(string tenant, string id)
    {
        using var lease = store.Rent();
        return Find(lease.Connection, null, tenant, id);
    }

    /// <inheritdoc />
    public SessionPage List(string tenant, SessionQuery query)
    {
        var (column, direction, limit, offset) = SessionListing.Of(query);

        const string where = """
            WHERE tenant = $tenant AND ($user IS NULL OR user_id = CAST($user AS TEXT)) AND ($status IS NULL OR status = $status)
              AND ($ca IS NULL OR created_at >= $ca) AND ($cb IS NULL OR created_at < $cb)
              AND ($ua IS NULL OR updated_at >= $ua) AND ($ub IS NULL OR updated_at < $ub)
            """;
        (string, object?)[] parameters =
        [
            ("$tenant", tenant), ("$user", ExactText.Bind(string.IsNullOrEmpty(query.UserId) ? null : query.UserId)), ("$status", query.Status),
            ("$ca", FormatOrNull(query.CreatedAfter)), ("$cb", FormatOrNull(query.CreatedBefore)),
            ("$ua", FormatOrNull(query.UpdatedAfter)), ("$ub", FormatOrNull(query.UpdatedBefore)),
        ];
        using var lease = store.Rent();
        using var count = Sql.Command(lease.Connection, null, $"SELECT COUNT(*) FROM sessions {where}", parameters);
        int total = Convert.ToInt32(count.ExecuteScalar(), CultureInfo.InvariantCulture);
        using var select = Sql.Command(lease.Connection, null,
            $"SELECT {SessionColumns} FROM sessions {where} ORDER BY {column} {direction}, id {direction} LIMIT $limit OFFSET $offset",
            [.. parameters, ("$limit", limit), ("$offset", offset)]);
        var items = new List<Session>();
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            items.Add(ReadSession(reader));
        }

        return new SessionPage(items, total);
    }

    /// <inheritdoc />
    public Session Close(string tenant, string id)
    {
        using var lease = store.Rent();
        using var update = Sql.Command(lease.Connection, null,
            "UPDATE sessions SET status = 'closed', updated_at = $now WHERE tenant = $tenant AND id = $id AND status = 'open'",
            ("$now", Timestamps.Format(Now())), ("$tenant", tenant), ("$id", id));
        update.ExecuteNonQuery();
        return Find(lease.Connection, null, tenant, id) ?? throw new SessionNotFoundException(id);
    }

    /// <inheritdoc />
    public bool Delete(string tenant, string id)
    {
        using var lease = store.Rent();
        using var delete = Sql.Command(lease.Connection, null, "DELETE FROM sessions WHERE tenant = $tenant AND id = $id", ("$tenant", tenant), ("$id", id));
        return delete.ExecuteNonQuery() > 0;
    }

    /// <inheritdoc />
    public IReadOnlyList<Message> Messages(string tenant, string id)
    {
        using var lease = store.Rent();
        _ = Find(lease.Connection, null, tenant, id) ?? throw new SessionNotFoundException(id);
        using var select = Sql.Command(lease.Connection, null, $"SELECT {MessageColumns} FROM messages WHERE session_id = $id ORDER BY sequence", ("$id", id));
        var messages = new List<Message>();
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            messages.Add(ReadMessage(reader));
        }

        return messages;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, RawJson> WorkingSets(string tenant, string sessionId)
    {
        using var lease = store.Rent();
        using var select = Sql.Command(lease.Connection, null, """
            SELECT w.message_id, w.json FROM working_sets w
            JOIN messages m ON m.id = w.message_id JOIN sessions s ON s.id = m.session_id
            WHERE s.tenant = $tenant AND s.id = $id
            """, ("$tenant", tenant), ("$id", sessionId));
        var workingSets = new Dictionary<string, RawJson>(StringComparer.Ordinal);
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            workingSets[reader.GetString(0)] = new RawJson(reader.GetString(1));
        }

        return workingSets;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, (int Turns, long Tokens)> TurnTotals(string tenant, IEnumerable<string> sessionIds)
    {
        var totals = new Dictionary<string, (int Turns, long Tokens)>(StringComparer.Ordinal);
        var ids = sessionIds.Distinct(StringComparer.Ordinal).ToList();
        if (ids.Count == 0)
        {
            return totals;
        }

        using var lease = store.Rent();
        // One query for the whole list (a page of sessions), the ids passed as one JSON array.
        using var select = Sql.Command(lease.Connection, null, """
            SELECT m.session_id, COUNT(*), COALESCE(SUM(json_extract(w.json, '$.tokenCount')), 0)
            FROM sessions s JOIN messages m ON m.session_id = s.id LEFT JOIN working_sets w ON w.message_id = m.id
            WHERE s.tenant = $tenant AND s.id IN (SELECT value FROM json_each($ids)) AND m.role = 'user'
            GROUP BY m.session_id
            """, ("$tenant", tenant), ("$ids", JsonSerializer.Serialize(ids)));
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            totals[reader.GetString(0)] = (reader.GetInt32(1), reader.GetInt64(2));
        }

        return totals;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, TurnBudgetRecord> TurnBudgets(string tenant, string sessionId)
    {
        using var lease = store.Rent();
        using var select = Sql.Command(lease.Connection, null, """
            SELECT b.message_id, b.history_budget, b.history_tokens, b.total_budget FROM turn_budgets b
            JOIN messages m ON m.id = b.message_id JOIN sessions s ON s.id = m.session_id
            WHERE s.tenant = $tenant AND s.id = $id
            """, ("$tenant", tenant), ("$id", sessionId));
        var budgets = new Dictionary<string, TurnBudgetRecord>(StringComparer.Ordinal);
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            budgets[reader.GetString(0)] = new TurnBudgetRecord(reader.GetInt32(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetInt32(3));
        }

        return budgets;
    }

    // Records a user turn's history and total budgets, inside the transaction that appends it.
    private static void SaveTurnBudgets(SqliteConnection connection, SqliteTransaction transaction, string messageId, TurnBudgetRecord budgets)
    {
        using var insert = Sql.Command(connection, transaction,
            "INSERT INTO turn_budgets (message_id, history_budget, history_tokens, total_budget) VALUES ($id, $budget, $tokens, $total)",
            ("$id", messageId), ("$budget", budgets.HistoryBudget), ("$tokens", budgets.HistoryTokens), ("$total", budgets.TotalBudget));
        insert.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public RawJson? LatestWorkingSet(string tenant, string sessionId)
    {
        using var lease = store.Rent();
        using var select = Sql.Command(lease.Connection, null, """
            SELECT w.json FROM sessions s JOIN messages m ON m.session_id = s.id JOIN working_sets w ON w.message_id = m.id
            WHERE s.tenant = $tenant AND s.id = $id AND m.role = 'user' ORDER BY m.sequence DESC LIMIT 1
            """, ("$tenant", tenant), ("$id", sessionId));
        return select.ExecuteScalar() is string json ? new RawJson(json) : null;
    }

    /// <inheritdoc />
    /// <remarks>One IMMEDIATE transaction: the next sequence number is read under SQLite's write lock, so it is gapless and
    /// unique even across processes.</remarks>
    public Message Append(
        string tenant, string id, MessageDraft draft, TurnBudgetRecord? budgets = null, IdempotencyClaim<Message>? idempotency = null, long? afterSequence = null)
    {
        lock (_writeGate)
        {
            var now = Now();
            using var lease = store.Rent();
            using var transaction = lease.Connection.BeginTransaction(deferred: false);
            var session = Find(lease.Connection, transaction, tenant, id) ?? throw new SessionNotFoundException(id);
            if (session.Status != SessionStatus.Open)
            {
                throw new SessionConflictException($"Session '{id}' is closed.");
            }

            using var next = Sql.Command(lease.Connection, transaction, "SELECT COALESCE(MAX(sequence), 0) + 1 FROM messages WHERE session_id = $id", ("$id", id));
            long sequence = Convert.ToInt64(next.ExecuteScalar(), CultureInfo.InvariantCulture);
            if (afterSequence is { } read && read != sequence - 1)
            {
                throw SessionRepositoryExtensions.StaleHistory(id, read, sequence - 1);
            }

            var message = new Message(SessionIds.New(), draft.Role, draft.Content, sequence, now, Clone(draft.Metadata)) { CitationCheck = draft.CitationCheck };
            using var insert = Sql.Command(lease.Connection, transaction, """
                INSERT INTO messages (id, session_id, sequence, role, content, metadata, created_at, citation_check)
                VALUES ($mid, $id, $seq, $role, CAST($content AS TEXT), CAST($metadata AS TEXT), $now, $check)
                """,
                ("$mid", message.Id), ("$id", id), ("$seq", sequence), ("$role", draft.Role), ("$content", ExactText.Bind(draft.Content)),
                ("$metadata", ExactText.Bind(RawText(draft.Metadata))), ("$now", Timestamps.Format(now)),
                ("$check", draft.CitationCheck is null ? null : JsonSerializer.Serialize(draft.CitationCheck, SessionJson.Options)));
            insert.ExecuteNonQuery();
            if (draft.WorkingSet is { } workingSet)
            {
                using var ws = Sql.Command(lease.Connection, transaction, "INSERT INTO working_sets (message_id, json) VALUES ($mid, $json)", ("$mid", message.Id), ("$json", workingSet.Json));
                ws.ExecuteNonQuery();
            }

            using var touch = Sql.Command(lease.Connection, transaction,
                "UPDATE sessions SET message_count = message_count + 1, updated_at = $now WHERE id = $id", ("$now", Timestamps.Format(now)), ("$id", id));
            touch.ExecuteNonQuery();
            if (budgets is not null)
            {
                SaveTurnBudgets(lease.Connection, transaction, message.Id, budgets);
            }

            if (idempotency is not null)
            {
                idempotencyKeys.Save(lease.Connection, transaction, tenant, idempotency, message);
            }

            transaction.Commit();
            return message;
        }
    }

    /// <inheritdoc />
    public int DeleteUpdatedBefore(DateTimeOffset cutoff)
    {
        using var lease = store.Rent();
        using var delete = Sql.Command(lease.Connection, null, "DELETE FROM sessions WHERE updated_at < $cutoff", ("$cutoff", Timestamps.Format(cutoff)));
        return delete.ExecuteNonQuery();
    }

    private static Session? Find(SqliteConnection connection, SqliteTransaction? transaction, string tenant, string id)
    {
        if (!SessionIds.IsWellFormed(id))
        {
            // Ids are ours (32 hex digits); anything else cannot exist, and need not reach SQLite's text binding.
            return null;
        }

        using var select = Sql.Command(connection, transaction, $"SELECT {SessionColumns} FROM sessions WHERE tenant = $tenant AND id = $id", ("$tenant", tenant), ("$id", id));
        using var reader = select.ExecuteReader();
        return reader.Read() ? ReadSession(reader) : null;
    }

    private static Session ReadSession(SqliteDataReader r) =>
        new(r.GetString(0), ExactText.Read(r, 2), r.GetString(3), Json(r, 4),
            r.IsDBNull(5) ? null : JsonSerializer.Deserialize<SessionBudgets>(r.GetString(5), SessionJson.Options),
            Timestamps.Parse(r.GetString(6)), Timestamps.Parse(r.GetString(7)), r.GetInt32(8))
        {
            Tenant = r.GetString(1),
            Compaction = r.IsDBNull(9) ? null : JsonSerializer.Deserialize<Engine.Sessions.Compacting.CompactionSettings>(r.GetString(9), SessionJson.Options),
        };

    private static Message ReadMessage(SqliteDataReader r) =>
        new(r.GetString(0), r.GetString(1), ExactText.Read(r, 2)!, r.GetInt64(3), Timestamps.Parse(r.GetString(4)), Json(r, 5))
        {
            CitationCheck = r.IsDBNull(6) ? null : JsonSerializer.Deserialize<CitationCheck>(r.GetString(6), SessionJson.Options),
        };

    private static JsonElement? Json(SqliteDataReader r, int ordinal)
    {
        if (r.IsDBNull(ordinal))
        {
            return null;
        }

        using var document = JsonDocument.Parse(ExactText.Read(r, ordinal)!);
        return document.RootElement.Clone();
    }

    private static JsonElement? Clone(JsonElement? element) => element is { ValueKind: not JsonValueKind.Undefined } e ? e.Clone() : null;

    // The caller's JSON exactly as it was sent (GetRawText keeps escapes such as a lone "\ud800" that a re-serialization would reject).
    private static string? RawText(JsonElement? element) => element is { ValueKind: not JsonValueKind.Undefined } e ? e.GetRawText() : null;

    private static string? FormatOrNull(DateTimeOffset? time) => time is { } t ? Timestamps.Format(t) : null;

}
