using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Tokenization;
using ContextCompiler.Storage.Index;
using Microsoft.Data.Sqlite;

namespace ContextCompiler.Storage.Sessions;

/// <summary>A further write that must commit, or roll back, with a message.</summary>
internal delegate void AlsoWrite(SqliteConnection connection, SqliteTransaction transaction, Message message);

/// <summary>
/// Sessions, their messages and each user message's working set, in the index's SQLite file. Every read and write is
/// scoped to a tenant: another tenant's session is reported as not found. A turn compiles first and then stores the
/// user message and its working set in one transaction, so a failed compile leaves nothing behind.
/// </summary>
public sealed class SessionStore(IndexStore store, WorkingSetCompiler compiler, ITokenizer tokenizer, SessionStoreOptions options, TimeProvider? clock = null)
{
    private const string SessionColumns = "id, tenant, user_id, status, metadata, budgets, created_at, updated_at, message_count";
    private const string MessageColumns = "id, role, content, sequence, created_at, metadata, citation_check";

    // One writer per session in this process, so concurrent turns queue instead of racing for the same sequence number.
    // The UNIQUE (session_id, sequence) constraint still guards against other processes.
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _sessionLocks = new(StringComparer.Ordinal);
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Lock _writeGate = new();
    private readonly IdempotencyKeys _idempotencyKeys = new(store, clock);

    /// <summary>The store's limits and defaults.</summary>
    public SessionStoreOptions Options { get; } = options;

    /// <summary>Creates an open session; with <paramref name="idempotency"/>, the key is saved in the same transaction.</summary>
    /// <exception cref="ArgumentException">Invalid default budgets.</exception>
    /// <exception cref="SessionCapacityException">The user already has the most open sessions allowed.</exception>
    /// <exception cref="IdempotencyKeyTakenException">A concurrent request saved the same key first; nothing was written.</exception>
    public Session Create(string tenant, NewSession request, IdempotencyClaim<Session>? idempotency = null)
    {
        if (request.DefaultBudgets is { } budgets)
        {
            ResolveBudgets(budgets, null);
        }

        var now = Now();
        var session = new Session(NewId(), NullIfEmpty(request.UserId), SessionStatus.Open, Clone(request.Metadata), request.DefaultBudgets, now, now, 0)
        {
            Tenant = tenant,
        };
        using var lease = store.Rent();
        using var transaction = lease.Connection.BeginTransaction(deferred: false);
        if (Options.MaxOpenSessionsPerUser is { } max && session.UserId is { } user)
        {
            using var count = Command(lease.Connection, transaction,
                "SELECT COUNT(*) FROM sessions WHERE tenant = $tenant AND user_id = CAST($user AS TEXT) AND status = 'open'", ("$tenant", tenant), ("$user", ExactText.Bind(user)));
            if (Convert.ToInt32(count.ExecuteScalar(), CultureInfo.InvariantCulture) >= max)
            {
                throw new SessionCapacityException($"User '{user}' already has {max} open sessions; close one first.");
            }
        }

        using var insert = Command(lease.Connection, transaction,
            $"INSERT INTO sessions ({SessionColumns}) VALUES ($id, $tenant, CAST($user AS TEXT), 'open', CAST($metadata AS TEXT), $budgets, $now, $now, 0)",
            ("$id", session.Id), ("$tenant", tenant), ("$user", ExactText.Bind(session.UserId)), ("$metadata", ExactText.Bind(RawText(request.Metadata))),
            ("$budgets", request.DefaultBudgets is null ? null : JsonSerializer.Serialize(request.DefaultBudgets, SessionJson.Options)),
            ("$now", Format(now)));
        insert.ExecuteNonQuery();
        if (idempotency is not null)
        {
            _idempotencyKeys.Save(lease.Connection, transaction, tenant, idempotency, session);
        }

        transaction.Commit();
        return session;
    }

    /// <summary>The session <paramref name="id"/> of <paramref name="tenant"/>.</summary>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    public Session Get(string tenant, string id)
    {
        using var lease = store.Rent();
        return Find(lease.Connection, null, tenant, id) ?? throw new SessionNotFoundException(id);
    }

    /// <summary>A filtered, ordered page of the tenant's sessions and the number matching in all.</summary>
    /// <exception cref="ArgumentException">An unknown order, direction or status, or a bad page.</exception>
    public SessionPage List(string tenant, SessionQuery query)
    {
        // Only these fixed column names ever reach the SQL text; the caller's value merely selects one.
        string column = (query.OrderBy ?? "createdAt") switch
        {
            "createdAt" => "created_at",
            "updatedAt" => "updated_at",
            "messageCount" => "message_count",
            var other => throw new ArgumentException($"orderBy must be createdAt, updatedAt or messageCount, not '{other}'."),
        };
        string direction = (query.Direction ?? "desc").ToLowerInvariant() switch
        {
            "asc" => "ASC",
            "desc" => "DESC",
            _ => throw new ArgumentException($"direction must be asc or desc, not '{query.Direction}'."),
        };
        if (query.Status is not (null or SessionStatus.Open or SessionStatus.Closed))
        {
            throw new ArgumentException($"status must be open or closed, not '{query.Status}'.");
        }

        int limit = query.Limit ?? 50;
        int offset = query.Offset ?? 0;
        if (limit is < 1 or > 500 || offset < 0)
        {
            throw new ArgumentException("limit must be between 1 and 500 and offset at least 0.");
        }

        const string where = """
            WHERE tenant = $tenant AND ($user IS NULL OR user_id = CAST($user AS TEXT)) AND ($status IS NULL OR status = $status)
              AND ($ca IS NULL OR created_at >= $ca) AND ($cb IS NULL OR created_at < $cb)
              AND ($ua IS NULL OR updated_at >= $ua) AND ($ub IS NULL OR updated_at < $ub)
            """;
        (string, object?)[] parameters =
        [
            ("$tenant", tenant), ("$user", ExactText.Bind(NullIfEmpty(query.UserId))), ("$status", query.Status),
            ("$ca", FormatOrNull(query.CreatedAfter)), ("$cb", FormatOrNull(query.CreatedBefore)),
            ("$ua", FormatOrNull(query.UpdatedAfter)), ("$ub", FormatOrNull(query.UpdatedBefore)),
        ];
        using var lease = store.Rent();
        using var count = Command(lease.Connection, null, $"SELECT COUNT(*) FROM sessions {where}", parameters);
        int total = Convert.ToInt32(count.ExecuteScalar(), CultureInfo.InvariantCulture);
        using var select = Command(lease.Connection, null,
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

    /// <summary>Closes the session; it keeps its messages but takes no more. Closing a closed session changes nothing.</summary>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    public Session Close(string tenant, string id)
    {
        using var lease = store.Rent();
        using var update = Command(lease.Connection, null,
            "UPDATE sessions SET status = 'closed', updated_at = $now WHERE tenant = $tenant AND id = $id AND status = 'open'",
            ("$now", Format(Now())), ("$tenant", tenant), ("$id", id));
        update.ExecuteNonQuery();
        return Find(lease.Connection, null, tenant, id) ?? throw new SessionNotFoundException(id);
    }

    /// <summary>Deletes the session with its messages and working sets.</summary>
    /// <exception cref="SessionNotFoundException">No such session for this tenant; nothing is deleted silently.</exception>
    public void Delete(string tenant, string id)
    {
        using var lease = store.Rent();
        using var delete = Command(lease.Connection, null, "DELETE FROM sessions WHERE tenant = $tenant AND id = $id", ("$tenant", tenant), ("$id", id));
        if (delete.ExecuteNonQuery() == 0)
        {
            throw new SessionNotFoundException(id);
        }

        // A writer still waiting on the old lock will find the session gone inside its transaction and fail with not found.
        _sessionLocks.TryRemove(id, out _);
    }

    /// <summary>Appends an assistant, system or tool message. User messages come through <see cref="TakeTurnAsync"/>, which compiles their working set.</summary>
    /// <exception cref="ArgumentException">An unknown or user role, or empty content.</exception>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    /// <exception cref="SessionConflictException">The session is closed.</exception>
    /// <exception cref="IdempotencyKeyTakenException">A concurrent request saved the same key first; nothing was written.</exception>
    public async Task<Message> AddMessageAsync(
        string tenant, string id, string? role, string? content, JsonElement? metadata, IdempotencyClaim<Message>? idempotency = null, CancellationToken cancellationToken = default)
    {
        string parsed = MessageRoles.Parse(role);
        if (parsed == MessageRoles.User)
        {
            throw new ArgumentException("User messages are added as turns (POST /turns), so that each has its working set.", nameof(role));
        }

        string text = ValidContent(content);
        var gate = LockFor(tenant, id);
        await gate.WaitAsync(cancellationToken);
        try
        {
            var check = parsed == MessageRoles.Assistant ? CheckCitations(id, text) : null;
            return Append(tenant, id, parsed, text, metadata, null, idempotency is null ? null : (c, t, message) => _idempotencyKeys.Save(c, t, tenant, idempotency, message), check);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Takes a user turn: builds the history, compiles the working set (retrieving with the message and the recent user
    /// messages), then stores the message and the serialized working set together.
    /// </summary>
    /// <exception cref="ArgumentException">Empty message or invalid budgets.</exception>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    /// <exception cref="SessionConflictException">The session is closed.</exception>
    /// <exception cref="IdempotencyKeyTakenException">A concurrent request saved the same key first; nothing was written.</exception>
    public async Task<TurnResult> TakeTurnAsync(
        string tenant, string id, TurnRequest request, IdempotencyClaim<TurnResult>? idempotency = null, CancellationToken cancellationToken = default)
    {
        string text = ValidContent(request.Message);
        var gate = LockFor(tenant, id);
        await gate.WaitAsync(cancellationToken);
        try
        {
            var session = Get(tenant, id);
            if (session.Status != SessionStatus.Open)
            {
                throw new SessionConflictException($"Session '{id}' is closed.");
            }

            var (contextBudget, historyBudget) = ResolveBudgets(request.Budgets, session.DefaultBudgets);
            var earlier = Messages(tenant, id);
            var counter = request.Tokenizer is null ? tokenizer : compiler.TokenizerFor(request.Tokenizer);
            var history = HistoryBuilder.Build(earlier, historyBudget, counter, request.SkipOversized);
            if (SplitTotal(request.Budgets, session.DefaultBudgets) is { } total)
            {
                // A total split by share: the history takes what it needs up to its share, and what it leaves goes to
                // the working set, so a short conversation does not waste the budget.
                historyBudget = history.TokenCount;
                contextBudget = total - historyBudget;
            }

            // Compile before anything is written: a failed compile must not leave an orphan user message.
            var workingSet = await compiler.CompileAsync(RetrievalRequest(earlier, text, contextBudget, request.Explain) with { Tokenizer = request.Tokenizer }, cancellationToken);
            var json = new RawJson(JsonSerializer.Serialize(workingSet, SessionJson.Options));
            TurnResult Result(Message message) => new(message, json, workingSet.TokenCount, history, contextBudget, historyBudget);
            var stored = Append(tenant, id, MessageRoles.User, text, null, json,
                idempotency is null ? null : (c, t, message) => _idempotencyKeys.Save(c, t, tenant, idempotency, Result(message)));
            return Result(stored);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The session's messages in order.</summary>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    public IReadOnlyList<Message> Messages(string tenant, string id)
    {
        using var lease = store.Rent();
        _ = Find(lease.Connection, null, tenant, id) ?? throw new SessionNotFoundException(id);
        using var select = Command(lease.Connection, null, $"SELECT {MessageColumns} FROM messages WHERE session_id = $id ORDER BY sequence", ("$id", id));
        var messages = new List<Message>();
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            messages.Add(ReadMessage(reader));
        }

        return messages;
    }

    /// <summary>The newest messages that fit <paramref name="maxTokens"/> (default: the session's history budget).</summary>
    public HistoryWindow History(string tenant, string id, int? maxTokens = null, bool skipOversized = false)
    {
        var session = Get(tenant, id);
        int budget = maxTokens ?? ResolveBudgets(null, session.DefaultBudgets).History;
        if (budget < 1 || budget > Options.MaxBudget)
        {
            throw new ArgumentException($"maxTokens must be between 1 and {Options.MaxBudget}, not {budget}.");
        }

        return HistoryBuilder.Build(Messages(tenant, id), budget, tokenizer, skipOversized);
    }

    /// <summary>
    /// A draft <paramref name="reply"/>'s <c>[n]</c> markers checked against the latest turn's working set, as
    /// <see cref="AddMessageAsync"/> would store them, but storing nothing. Null when the session has no turn yet.
    /// </summary>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    public Core.Cite.CitationCheck? CheckReply(string tenant, string id, string reply)
    {
        _ = Get(tenant, id);
        return CheckCitations(id, reply);
    }

    /// <summary>The whole session as turns, each user message with the working set stored for it.</summary>
    public SessionReplay Replay(string tenant, string id)
    {
        var session = Get(tenant, id);
        var messages = Messages(tenant, id);
        var workingSets = new Dictionary<string, RawJson>(StringComparer.Ordinal);
        using (var lease = store.Rent())
        {
            using var select = Command(lease.Connection, null,
                "SELECT w.message_id, w.json FROM working_sets w JOIN messages m ON m.id = w.message_id WHERE m.session_id = $id", ("$id", id));
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                workingSets[reader.GetString(0)] = new RawJson(reader.GetString(1));
            }
        }

        return new SessionReplay(session, ReplayBuilder.Build(messages, workingSets));
    }

    /// <summary>Deletes sessions of every tenant not updated for <see cref="SessionStoreOptions.RetentionDays"/> days; returns how many.</summary>
    public int PurgeIdle()
    {
        if (Options.RetentionDays is not { } days)
        {
            return 0;
        }

        using var lease = store.Rent();
        using var delete = Command(lease.Connection, null, "DELETE FROM sessions WHERE updated_at < $cutoff", ("$cutoff", Format(Now().AddDays(-days))));
        return delete.ExecuteNonQuery();
    }

    /// <summary>
    /// The context and history budgets of a turn: the request's, else the session's defaults, else the store's.
    /// A total is split by the context share where its parts are not given; the parts never sum above the total.
    /// </summary>
    /// <exception cref="ArgumentException">A budget below 1 or above the maximum, or parts exceeding the total.</exception>
    public (int Context, int History) ResolveBudgets(SessionBudgets? request, SessionBudgets? sessionDefaults)
    {
        Validate(request);
        Validate(sessionDefaults);
        var chosen = Chosen(request, sessionDefaults);
        double share = request?.ContextShare ?? sessionDefaults?.ContextShare ?? Options.DefaultContextShare;
        if (chosen?.TotalBudget is not { } total)
        {
            return (chosen?.ContextBudget ?? Options.DefaultContextBudget, chosen?.HistoryBudget ?? Options.DefaultHistoryBudget);
        }

        var (context, history) = (chosen.ContextBudget, chosen.HistoryBudget) switch
        {
            ({ } c, { } h) => (c, h),
            ({ } c, null) => (c, total - c),
            (null, { } h) => (total - h, h),
            _ => (Math.Max(1, (int)Math.Round(total * share)), 0),
        };
        if (chosen.ContextBudget is null && chosen.HistoryBudget is null)
        {
            history = total - context;
        }

        if (context < 1 || history < 0 || context + history > total)
        {
            throw new ArgumentException($"contextBudget ({context}) and historyBudget ({history}) must fit within totalBudget ({total}), with at least 1 context token.");
        }

        return (context, history);
    }

    // The total of a turn whose budgets are a total with neither part given (from the request, else the session); null otherwise.
    private static int? SplitTotal(SessionBudgets? request, SessionBudgets? sessionDefaults) =>
        Chosen(request, sessionDefaults) is { TotalBudget: { } total, ContextBudget: null, HistoryBudget: null } ? total : null;

    // The request's budgets when it names any, else the session's defaults.
    private static SessionBudgets? Chosen(SessionBudgets? request, SessionBudgets? sessionDefaults) =>
        request is { ContextBudget: not null } or { HistoryBudget: not null } or { TotalBudget: not null } ? request : sessionDefaults;

    private void Validate(SessionBudgets? budgets)
    {
        if (budgets is null)
        {
            return;
        }

        foreach (var (name, value) in new[] { ("contextBudget", budgets.ContextBudget), ("historyBudget", budgets.HistoryBudget), ("totalBudget", budgets.TotalBudget) })
        {
            if (value is { } v && (v < 1 || v > Options.MaxBudget))
            {
                throw new ArgumentException($"{name} must be between 1 and {Options.MaxBudget}, not {v}.");
            }
        }

        if (budgets.ContextShare is { } share && !(share > 0 && share < 1))
        {
            throw new ArgumentException($"contextShare must be between 0 and 1 (exclusive), not {share.ToString(CultureInfo.InvariantCulture)}.");
        }
    }

    // The message is the query; the recent user messages and the assistant's last reply form the context, weighted
    // below it. Without weighting (the earlier behaviour), the user messages are joined into the query itself.
    private CompileRequest RetrievalRequest(IReadOnlyList<Message> earlier, string message, int budget, bool explain)
    {
        var users = earlier.Where(m => m.Role == MessageRoles.User).TakeLast(Math.Max(0, Options.RetrievalUserMessages)).Select(m => m.Content).ToList();
        if (!Options.WeightRetrievalContext)
        {
            return new CompileRequest(message, budget, Options: Options.CompilerOptions, Explain: explain,
                RetrievalQuery: users.Count == 0 ? null : string.Join("\n", [.. users, message]));
        }

        var replies = earlier.Where(m => m.Role == MessageRoles.Assistant).TakeLast(Math.Max(0, Options.RetrievalAssistantMessages)).Select(m => m.Content);
        var context = string.Join("\n", users.Concat(replies));
        return new CompileRequest(message, budget, Options: Options.CompilerOptions, Explain: explain, RetrievalContext: context.Length == 0 ? null : context);
    }

    // Writes one message (and a user message's working set, and whatever alsoWrite adds, such as an idempotency key) in
    // one IMMEDIATE transaction: the next sequence number is read under SQLite's write lock, so it is gapless and unique
    // even across processes.
    private Message Append(
        string tenant, string id, string role, string content, JsonElement? metadata, RawJson? workingSet, AlsoWrite? alsoWrite, Core.Cite.CitationCheck? check = null)
    {
        // SQLite allows one writer at a time; queueing writers here is far cheaper than letting them meet SQLITE_BUSY
        // and back off with sleeps, which showed up as hundreds of milliseconds of tail latency under concurrent turns.
        lock (_writeGate)
        {
            return AppendLocked(tenant, id, role, content, metadata, workingSet, alsoWrite, check);
        }
    }

    private Message AppendLocked(
        string tenant, string id, string role, string content, JsonElement? metadata, RawJson? workingSet, AlsoWrite? alsoWrite, Core.Cite.CitationCheck? check)
    {
        var now = Now();
        using var lease = store.Rent();
        using var transaction = lease.Connection.BeginTransaction(deferred: false);
        var session = Find(lease.Connection, transaction, tenant, id) ?? throw new SessionNotFoundException(id);
        if (session.Status != SessionStatus.Open)
        {
            throw new SessionConflictException($"Session '{id}' is closed.");
        }

        using var next = Command(lease.Connection, transaction, "SELECT COALESCE(MAX(sequence), 0) + 1 FROM messages WHERE session_id = $id", ("$id", id));
        long sequence = Convert.ToInt64(next.ExecuteScalar(), CultureInfo.InvariantCulture);
        var message = new Message(NewId(), role, content, sequence, now, Clone(metadata)) { CitationCheck = check };
        using var insert = Command(lease.Connection, transaction,
            $"INSERT INTO messages (id, session_id, sequence, role, content, metadata, created_at, citation_check) VALUES ($mid, $id, $seq, $role, CAST($content AS TEXT), CAST($metadata AS TEXT), $now, $check)",
            ("$mid", message.Id), ("$id", id), ("$seq", sequence), ("$role", role), ("$content", ExactText.Bind(content)), ("$metadata", ExactText.Bind(RawText(metadata))), ("$now", Format(now)),
            ("$check", check is null ? null : JsonSerializer.Serialize(check, SessionJson.Options)));
        insert.ExecuteNonQuery();
        if (workingSet is not null)
        {
            using var ws = Command(lease.Connection, transaction, "INSERT INTO working_sets (message_id, json) VALUES ($mid, $json)", ("$mid", message.Id), ("$json", workingSet.Json));
            ws.ExecuteNonQuery();
        }

        using var touch = Command(lease.Connection, transaction,
            "UPDATE sessions SET message_count = message_count + 1, updated_at = $now WHERE id = $id", ("$now", Format(now)), ("$id", id));
        touch.ExecuteNonQuery();
        alsoWrite?.Invoke(lease.Connection, transaction, message);
        transaction.Commit();
        return message;
    }

    // The reply answers the latest turn: its markers are checked against that turn's stored working set.
    private Core.Cite.CitationCheck? CheckCitations(string id, string reply)
    {
        using var lease = store.Rent();
        using var select = Command(lease.Connection, null, """
            SELECT w.json FROM messages m JOIN working_sets w ON w.message_id = m.id
            WHERE m.session_id = $id AND m.role = 'user' ORDER BY m.sequence DESC LIMIT 1
            """, ("$id", id));
        if (select.ExecuteScalar() is not string json)
        {
            return null;
        }

        using var document = JsonDocument.Parse(json);
        var numbers = document.RootElement.TryGetProperty("citations", out var citations)
            ? citations.EnumerateArray().Select(c => c.GetProperty("n").GetInt32()).ToList()
            : [];
        return Core.Cite.CitationChecker.Check(reply, numbers);
    }

    // The session must exist before it gets a lock, so requests for made-up ids cannot grow the lock table.
    private SemaphoreSlim LockFor(string tenant, string id)
    {
        _ = Get(tenant, id);
        return _sessionLocks.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
    }

    private string ValidContent(string? content)
    {
        if (string.IsNullOrWhiteSpace(content))
        {
            throw new ArgumentException("The message must not be empty.");
        }

        if (content.Length > Options.MaxMessageChars)
        {
            throw new ArgumentException($"The message has {content.Length} characters; at most {Options.MaxMessageChars} are allowed.");
        }

        return content;
    }

    private static Session? Find(SqliteConnection connection, SqliteTransaction? transaction, string tenant, string id)
    {
        if (!IsId(id))
        {
            // Ids are ours (32 hex digits); anything else cannot exist, and need not reach SQLite's text binding.
            return null;
        }

        using var select = Command(connection, transaction, $"SELECT {SessionColumns} FROM sessions WHERE tenant = $tenant AND id = $id", ("$tenant", tenant), ("$id", id));
        using var reader = select.ExecuteReader();
        return reader.Read() ? ReadSession(reader) : null;
    }

    private static Session ReadSession(SqliteDataReader r) =>
        new(r.GetString(0), ExactText.Read(r, 2), r.GetString(3), Json(r, 4),
            r.IsDBNull(5) ? null : JsonSerializer.Deserialize<SessionBudgets>(r.GetString(5), SessionJson.Options),
            Parse(r.GetString(6)), Parse(r.GetString(7)), r.GetInt32(8))
        {
            Tenant = r.GetString(1),
        };

    private static Message ReadMessage(SqliteDataReader r) =>
        new(r.GetString(0), r.GetString(1), ExactText.Read(r, 2)!, r.GetInt64(3), Parse(r.GetString(4)), Json(r, 5))
        {
            CitationCheck = r.IsDBNull(6) ? null : JsonSerializer.Deserialize<Core.Cite.CitationCheck>(r.GetString(6), SessionJson.Options),
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

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private DateTimeOffset Now() => _clock.GetUtcNow();

    private static string Format(DateTimeOffset time) => Timestamps.Format(time);

    private static string? FormatOrNull(DateTimeOffset? time) => time is { } t ? Format(t) : null;

    private static DateTimeOffset Parse(string text) => Timestamps.Parse(text);

    private static string NewId() => Guid.CreateVersion7().ToString("N");

    // Stored exactly as sent: trimming would hand back something the client did not store.
    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static bool IsId(string id) => id.Length == 32 && id.AsSpan().IndexOfAnyExcept("0123456789abcdef") < 0;
}
