using System.Text.Json;
using ContextCompiler.Core.Cite;
using ContextCompiler.Engine.Sessions;
using Npgsql;
using NpgsqlTypes;

namespace ContextCompiler.Storage.Postgres;

/// <summary>
/// The PostgreSQL <see cref="ISessionRepository"/>, correct with several replicas on one database: nothing relies on a
/// lock inside one process. Appends are serialised by the session row's lock, the open-sessions limit by a transaction
/// advisory lock per user, and idempotency keys by their primary key. Times are whole microseconds (see <see cref="PostgresTime"/>).
/// </summary>
public sealed class PostgresSessionRepository(PostgresDatabase database, TimeProvider? clock = null) : ISessionRepository
{
    private const string SessionColumns = "id, tenant, user_id, status, metadata, budgets, created_at, updated_at, message_count, compaction";
    private const string MessageColumns = "id, role, content, sequence, created_at, metadata, citation_check";

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly NpgsqlDataSource _dataSource = database.DataSource;

    /// <inheritdoc />
    /// <remarks>Cut to a whole microsecond, what <c>timestamptz</c> keeps, so a time the caller stamps comes back equal.</remarks>
    public DateTimeOffset Now() => PostgresTime.Truncate(_clock.GetUtcNow());

    /// <inheritdoc />
    public void Insert(Session session, JsonElement? metadata, int? maxOpenPerUser, IdempotencyClaim<Session>? idempotency = null)
    {
        using var connection = _dataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        if (maxOpenPerUser is { } max && session.UserId is { } user)
        {
            // Replicas counting the same user's open sessions at once would each see room for one more; the lock makes the
            // count and the insert one step per user across the database until commit. Its own statement, so that in READ
            // COMMITTED the count below takes its snapshot after the lock, seeing the previous holder's insert. Two int4
            // keys live apart from the migration's one bigint key; a hash collision only serialises two users needlessly.
            // On PGlite every connection shares one backend session, where advisory locks are re-entrant and exclude
            // nobody, but it runs one transaction at a time, so the count and the insert are atomic there anyway.
            using var lockUser = Command(connection, transaction,
                "SELECT pg_advisory_xact_lock(hashtext('sessions-open:' || $1), hashtext(encode($2, 'hex')))",
                Text(session.Tenant), Exact(user));
            lockUser.ExecuteNonQuery();
            using var count = Command(connection, transaction,
                "SELECT COUNT(*) FROM sessions WHERE tenant = $1 AND user_id = $2 AND status = 'open'", Text(session.Tenant), Exact(user));
            if ((long)count.ExecuteScalar()! >= max)
            {
                throw new SessionCapacityException($"User '{user}' already has {max} open sessions; close one first.");
            }
        }

        using var insert = Command(connection, transaction,
            $"INSERT INTO sessions ({SessionColumns}) VALUES ($1, $2, $3, 'open', $4, $5, $6, $6, 0, $7)",
            Text(session.Id), Text(session.Tenant), Exact(session.UserId), Text(RawText(metadata)),
            Text(session.DefaultBudgets is null ? null : JsonSerializer.Serialize(session.DefaultBudgets, SessionJson.Options)),
            Time(session.CreatedAt),
            Text(session.Compaction is null ? null : JsonSerializer.Serialize(session.Compaction, SessionJson.Options)));
        insert.ExecuteNonQuery();
        if (idempotency is not null)
        {
            PostgresIdempotencyKeys.Save(connection, transaction, session.Tenant, idempotency, session, Now());
        }

        transaction.Commit();
    }

    /// <inheritdoc />
    public Session? Find(string tenant, string id)
    {
        using var connection = _dataSource.OpenConnection();
        return Find(connection, tenant, id);
    }

    /// <inheritdoc />
    public SessionPage List(string tenant, SessionQuery query)
    {
        var (column, direction, limit, offset) = SessionListing.Of(query);

        // '>=' and '<' bounds are rounded up to a whole microsecond so they select the rows SQLite's comparison does.
        const string where = """
            WHERE tenant = $1 AND ($2::bytea IS NULL OR user_id = $2) AND ($3::text IS NULL OR status = $3)
              AND ($4::timestamptz IS NULL OR created_at >= $4) AND ($5::timestamptz IS NULL OR created_at < $5)
              AND ($6::timestamptz IS NULL OR updated_at >= $6) AND ($7::timestamptz IS NULL OR updated_at < $7)
            """;
        NpgsqlParameter[] Parameters() =>
        [
            Text(tenant), Exact(string.IsNullOrEmpty(query.UserId) ? null : query.UserId), Text(query.Status),
            Bound(query.CreatedAfter), Bound(query.CreatedBefore), Bound(query.UpdatedAfter), Bound(query.UpdatedBefore),
        ];
        using var connection = _dataSource.OpenConnection();
        using var count = Command(connection, null, $"SELECT COUNT(*) FROM sessions {where}", Parameters());
        int total = checked((int)(long)count.ExecuteScalar()!);
        // Ids are lower-case hex; COLLATE "C" makes the tie-break the same byte order as SQLite's whatever the database's collation.
        using var select = Command(connection, null,
            $"SELECT {SessionColumns} FROM sessions {where} ORDER BY {column} {direction}, id COLLATE \"C\" {direction} LIMIT $8 OFFSET $9",
            [.. Parameters(), Value(limit), Value(offset)]);
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
        using var connection = _dataSource.OpenConnection();
        using var update = Command(connection, null,
            "UPDATE sessions SET status = 'closed', updated_at = $1 WHERE tenant = $2 AND id = $3 AND status = 'open'",
            Time(Now()), Text(tenant), Text(id));
        update.ExecuteNonQuery();
        return Find(connection, tenant, id) ?? throw new SessionNotFoundException(id);
    }

    /// <inheritdoc />
    public bool Delete(string tenant, string id)
    {
        using var connection = _dataSource.OpenConnection();
        // Messages and turn budgets go with it (ON DELETE CASCADE).
        using var delete = Command(connection, null, "DELETE FROM sessions WHERE tenant = $1 AND id = $2", Text(tenant), Text(id));
        return delete.ExecuteNonQuery() > 0;
    }

    /// <inheritdoc />
    public IReadOnlyList<Message> Messages(string tenant, string id)
    {
        using var connection = _dataSource.OpenConnection();
        _ = Find(connection, tenant, id) ?? throw new SessionNotFoundException(id);
        using var select = Command(connection, null,
            $"SELECT {MessageColumns} FROM messages WHERE tenant = $1 AND session_id = $2 ORDER BY sequence", Text(tenant), Text(id));
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
        using var connection = _dataSource.OpenConnection();
        using var select = Command(connection, null,
            "SELECT id, working_set FROM messages WHERE tenant = $1 AND session_id = $2 AND working_set IS NOT NULL",
            Text(tenant), Text(sessionId));
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
        var ids = sessionIds.Distinct(StringComparer.Ordinal).ToArray();
        if (ids.Length == 0)
        {
            return totals;
        }

        // One query for the whole list (a page of sessions); tokens were read from each working set when it was appended.
        using var connection = _dataSource.OpenConnection();
        using var select = Command(connection, null, """
            SELECT session_id, COUNT(*), COALESCE(SUM(working_set_tokens), 0)::bigint FROM messages
            WHERE tenant = $1 AND session_id = ANY($2) AND role = 'user'
            GROUP BY session_id
            """, Text(tenant), new NpgsqlParameter { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            totals[reader.GetString(0)] = (checked((int)reader.GetInt64(1)), reader.GetInt64(2));
        }

        return totals;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, TurnBudgetRecord> TurnBudgets(string tenant, string sessionId)
    {
        using var connection = _dataSource.OpenConnection();
        using var select = Command(connection, null, """
            SELECT m.id, b.history_budget, b.history_tokens, b.total_budget FROM turn_budgets b
            JOIN messages m ON m.tenant = b.tenant AND m.session_id = b.session_id AND m.sequence = b.sequence
            WHERE b.tenant = $1 AND b.session_id = $2
            """, Text(tenant), Text(sessionId));
        var budgets = new Dictionary<string, TurnBudgetRecord>(StringComparer.Ordinal);
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            budgets[reader.GetString(0)] = new TurnBudgetRecord(reader.GetInt32(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetInt32(3));
        }

        return budgets;
    }

    /// <inheritdoc />
    public RawJson? LatestWorkingSet(string tenant, string sessionId)
    {
        using var connection = _dataSource.OpenConnection();
        using var select = Command(connection, null, """
            SELECT working_set FROM messages
            WHERE tenant = $1 AND session_id = $2 AND role = 'user' AND working_set IS NOT NULL
            ORDER BY sequence DESC LIMIT 1
            """, Text(tenant), Text(sessionId));
        return select.ExecuteScalar() is string json ? new RawJson(json) : null;
    }

    /// <inheritdoc />
    /// <remarks>
    /// One transaction that starts by taking the sequence: the UPDATE of the session row both hands out
    /// <c>message_count + 1</c> and locks the row until commit, so appends to one session from any number of replicas
    /// queue there and get gapless, unique sequences; a rollback (a taken idempotency key) gives the number back.
    /// </remarks>
    public Message Append(
        string tenant, string id, MessageDraft draft, TurnBudgetRecord? budgets = null, IdempotencyClaim<Message>? idempotency = null, long? afterSequence = null)
    {
        if (!SessionIds.IsWellFormed(id))
        {
            throw new SessionNotFoundException(id);
        }

        var now = Now();
        using var connection = _dataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        using var take = Command(connection, transaction, """
            UPDATE sessions SET message_count = message_count + 1, updated_at = $1
            WHERE tenant = $2 AND id = $3 AND status = 'open' RETURNING message_count
            """, Time(now), Text(tenant), Text(id));
        if (take.ExecuteScalar() is not int sequence)
        {
            // No open row: either there is none for this tenant, or it is closed (closing is final, so no race matters).
            using var status = Command(connection, transaction, "SELECT status FROM sessions WHERE tenant = $1 AND id = $2", Text(tenant), Text(id));
            throw status.ExecuteScalar() is null
                ? new SessionNotFoundException(id)
                : new SessionConflictException($"Session '{id}' is closed.");
        }

        // The row lock taken above is held to the end: a turn that read an older history is refused (and the count given back).
        if (afterSequence is { } read && read != sequence - 1)
        {
            throw SessionRepositoryExtensions.StaleHistory(id, read, sequence - 1);
        }

        var message = new Message(SessionIds.New(), draft.Role, draft.Content, sequence, now, Clone(draft.Metadata)) { CitationCheck = draft.CitationCheck };
        using var insert = Command(connection, transaction, """
            INSERT INTO messages (tenant, session_id, sequence, id, role, content, metadata, working_set, working_set_tokens, citation_check, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            """,
            Text(tenant), Text(id), Value(sequence), Text(message.Id), Text(draft.Role), Exact(draft.Content), Text(RawText(draft.Metadata)),
            Text(draft.WorkingSet?.Json), new NpgsqlParameter { Value = (object?)TokenCount(draft.WorkingSet) ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint },
            Text(draft.CitationCheck is null ? null : JsonSerializer.Serialize(draft.CitationCheck, SessionJson.Options)), Time(now));
        insert.ExecuteNonQuery();
        if (budgets is not null)
        {
            using var saveBudgets = Command(connection, transaction, """
                INSERT INTO turn_budgets (tenant, session_id, sequence, history_budget, history_tokens, total_budget)
                VALUES ($1, $2, $3, $4, $5, $6)
                """,
                Text(tenant), Text(id), Value(sequence), Value(budgets.HistoryBudget), Value(budgets.HistoryTokens),
                new NpgsqlParameter { Value = (object?)budgets.TotalBudget ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
            saveBudgets.ExecuteNonQuery();
        }

        if (idempotency is not null)
        {
            PostgresIdempotencyKeys.Save(connection, transaction, tenant, idempotency, message, now);
        }

        transaction.Commit();
        return message;
    }

    /// <inheritdoc />
    public int DeleteUpdatedBefore(DateTimeOffset cutoff)
    {
        using var connection = _dataSource.OpenConnection();
        using var delete = Command(connection, null, "DELETE FROM sessions WHERE updated_at < $1", Time(PostgresTime.Ceiling(cutoff)));
        return delete.ExecuteNonQuery();
    }

    private static Session? Find(NpgsqlConnection connection, string tenant, string id)
    {
        if (!SessionIds.IsWellFormed(id))
        {
            // Ids are ours (32 hex digits); anything else cannot exist.
            return null;
        }

        using var select = Command(connection, null, $"SELECT {SessionColumns} FROM sessions WHERE tenant = $1 AND id = $2", Text(tenant), Text(id));
        using var reader = select.ExecuteReader();
        return reader.Read() ? ReadSession(reader) : null;
    }

    private static Session ReadSession(NpgsqlDataReader r) =>
        new(r.GetString(0), PostgresText.Read(r, 2), r.GetString(3), Json(r, 4),
            r.IsDBNull(5) ? null : JsonSerializer.Deserialize<SessionBudgets>(r.GetString(5), SessionJson.Options),
            r.GetFieldValue<DateTimeOffset>(6), r.GetFieldValue<DateTimeOffset>(7), r.GetInt32(8))
        {
            Tenant = r.GetString(1),
            Compaction = r.IsDBNull(9) ? null : JsonSerializer.Deserialize<Engine.Sessions.Compacting.CompactionSettings>(r.GetString(9), SessionJson.Options),
        };

    private static Message ReadMessage(NpgsqlDataReader r) =>
        new(r.GetString(0), r.GetString(1), PostgresText.Read(r, 2)!, r.GetInt32(3), r.GetFieldValue<DateTimeOffset>(4), Json(r, 5))
        {
            CitationCheck = r.IsDBNull(6) ? null : JsonSerializer.Deserialize<CitationCheck>(r.GetString(6), SessionJson.Options),
        };

    private static JsonElement? Json(NpgsqlDataReader r, int ordinal)
    {
        if (r.IsDBNull(ordinal))
        {
            return null;
        }

        using var document = JsonDocument.Parse(r.GetString(ordinal));
        return document.RootElement.Clone();
    }

    // The working set's "tokenCount", as SQLite's json_extract reads it for the listing's totals; null when it has none.
    internal static long? TokenCount(RawJson? workingSet)
    {
        if (workingSet is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(workingSet.Json);
            return document.RootElement.ValueKind == JsonValueKind.Object
                   && document.RootElement.TryGetProperty("tokenCount", out var tokens) && tokens.TryGetInt64(out long count)
                ? count
                : null;
        }
        catch (JsonException)
        {
            // Stored as it is all the same (it is returned verbatim); it just adds nothing to the totals.
            return null;
        }
    }

    private static JsonElement? Clone(JsonElement? element) => element is { ValueKind: not JsonValueKind.Undefined } e ? e.Clone() : null;

    // The caller's JSON exactly as it was sent (GetRawText keeps escapes such as a lone "\ud800" that a re-serialization would reject).
    private static string? RawText(JsonElement? element) => element is { ValueKind: not JsonValueKind.Undefined } e ? e.GetRawText() : null;

    private static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddRange(parameters);
        return command;
    }

    // Typed, so that a null still tells PostgreSQL its type.
    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter Exact(string? value) => new() { Value = PostgresText.Bind(value), NpgsqlDbType = NpgsqlDbType.Bytea };

    private static NpgsqlParameter Value<T>(T value) => new NpgsqlParameter<T> { TypedValue = value };

    // Npgsql writes timestamptz only from a UTC DateTimeOffset.
    private static NpgsqlParameter Time(DateTimeOffset value) => new() { Value = value.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz };

    private static NpgsqlParameter Bound(DateTimeOffset? value) =>
        value is { } time ? Time(PostgresTime.Ceiling(time)) : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz };
}
