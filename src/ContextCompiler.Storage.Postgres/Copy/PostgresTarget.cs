using System.Text;
using Npgsql;
using Pgvector;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Storage.Postgres.Copy;

/// <summary>
/// The PostgreSQL side of the copy: writes the rows in multi-row INSERTs, one transaction per table, keeping the source's
/// ids (documents and spans), and reads every table back as the same rows for the verification.
/// </summary>
internal sealed class PostgresTarget(NpgsqlConnection connection)
{
    // Rows per INSERT: well under PostgreSQL's 65,535 parameters for the widest table, and statements of a few MB.
    private const int BatchRows = 500;

    /// <summary>The tables holding something, of those the copy writes.</summary>
    public List<string> NonEmptyTables()
    {
        string[] tables = ["corpora", "documents", "spans", "sessions", "messages", "turn_budgets", "idempotency_keys"];
        return tables.Where(t => PgSql.Scalar(connection, null, $"SELECT EXISTS (SELECT 1 FROM {t})") is true).ToList();
    }

    public void WriteCorpora(IReadOnlyList<CorpusRow> rows) => Insert("corpora",
        ["tenant text", "name text", "shared boolean", "created_at timestamptz", "updated_at timestamptz"],
        rows.Select(r => new object?[] { r.Tenant, r.Name, r.Shared, r.CreatedAt, r.CreatedAt }));

    public void WriteDocuments(IReadOnlyList<DocumentRow> rows)
    {
        Insert("documents",
            ["id bigint", "tenant text", "corpus text", "path text", "kind text", "media_type text", "content_hash text", "content bytea",
                "original bytea", "bytes bigint", "chunking text", "generation bigint", "created_at timestamptz", "updated_at timestamptz"],
            rows.Select(r => new object?[]
            {
                r.Id, r.Tenant, r.Corpus, r.Path, r.Kind, r.MediaType, r.ContentHash, PostgresText.Bind(r.Content), PostgresText.Bind(r.Original),
                r.Bytes, r.Chunking, 1L, r.CreatedAt, r.CreatedAt,
            }), overriding: true);
        RestartIdentity("documents");
    }

    /// <summary>Writes spans; each takes its document's time as its own, as an ingest stamps both with one time.</summary>
    public void WriteSpans(IReadOnlyList<SpanRow> rows, IReadOnlyList<DocumentRow> documents)
    {
        var times = documents.ToDictionary(d => (d.Tenant, d.Corpus, d.Path), d => d.CreatedAt);
        Insert("spans",
            ["id bigint", "tenant text", "corpus text", "path text", "ordinal integer", "start_line integer", "end_line integer", "tokens integer",
                "heading bytea", "text text", "exact_text bytea", "embedding vector", "generation bigint", "updated_at timestamptz"],
            rows.Select(r => new object?[]
            {
                r.Id, r.Tenant, r.Corpus, r.Path, r.Ordinal, r.StartLine, r.EndLine, r.Tokens, PostgresText.Bind(r.Heading), r.Text,
                PostgresText.Bind(r.ExactText), r.Embedding is null ? null : new Vector(r.Embedding), 1L, times[(r.Tenant, r.Corpus, r.Path)],
            }), overriding: true);
        RestartIdentity("spans");
    }

    public void WriteSessions(IReadOnlyList<SessionRow> rows) => Insert("sessions",
        ["tenant text", "id text", "user_id bytea", "status text", "metadata text", "budgets text", "created_at timestamptz", "updated_at timestamptz",
            "message_count integer"],
        rows.Select(r => new object?[]
        {
            r.Tenant, r.Id, PostgresText.Bind(r.UserId), r.Status, r.Metadata, r.Budgets, r.CreatedAt, r.UpdatedAt, r.MessageCount,
        }));

    public void WriteMessages(IReadOnlyList<MessageRow> rows) => Insert("messages",
        ["tenant text", "session_id text", "sequence integer", "id text", "role text", "content bytea", "metadata text", "working_set text",
            "working_set_tokens bigint", "citation_check text", "created_at timestamptz"],
        rows.Select(r => new object?[]
        {
            r.Tenant, r.SessionId, r.Sequence, r.Id, r.Role, PostgresText.Bind(r.Content), r.Metadata, r.WorkingSet,
            PostgresSessionRepository.TokenCount(r.WorkingSet is null ? null : new Engine.Sessions.RawJson(r.WorkingSet)), r.CitationCheck, r.CreatedAt,
        }));

    public void WriteTurnBudgets(IReadOnlyList<TurnBudgetRow> rows) => Insert("turn_budgets",
        ["tenant text", "session_id text", "sequence integer", "history_budget integer", "history_tokens integer", "total_budget integer"],
        rows.Select(r => new object?[] { r.Tenant, r.SessionId, r.Sequence, r.HistoryBudget, r.HistoryTokens, r.TotalBudget }));

    public void WriteIdempotencyKeys(IReadOnlyList<IdempotencyKeyRow> rows) => Insert("idempotency_keys",
        ["tenant text", "key text", "fingerprint text", "status integer", "body bytea", "location text", "created_at timestamptz", "expires_at timestamptz"],
        rows.Select(r => new object?[]
        {
            r.Tenant, r.IdempotencyKey, r.Fingerprint, r.Status, PostgresText.Bind(r.Body), r.Location, r.CreatedAt, r.ExpiresAt,
        }));

    public List<CorpusRow> Corpora() => Read("SELECT tenant, name, shared, created_at FROM corpora",
        r => new CorpusRow(r.GetString(0), r.GetString(1), r.GetBoolean(2), Time(r, 3)));

    public List<DocumentRow> Documents() => Read(
        "SELECT id, tenant, corpus, path, kind, media_type, content_hash, content, original, bytes, chunking, created_at FROM documents",
        r => new DocumentRow(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), Nullable(r, 5), r.GetString(6),
            PostgresText.Read(r, 7)!, PostgresText.Read(r, 8), r.GetInt64(9), r.GetString(10), Time(r, 11)));

    public List<SpanRow> Spans() => Read(
        "SELECT id, tenant, corpus, path, ordinal, start_line, end_line, tokens, heading, text, exact_text, embedding FROM spans",
        r => new SpanRow(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt32(4), r.GetInt32(5), r.GetInt32(6), r.GetInt32(7),
            PostgresText.Read(r, 8)!, r.GetString(9), PostgresText.Read(r, 10)!, r.IsDBNull(11) ? null : r.GetFieldValue<Vector>(11).ToArray()));

    public List<SessionRow> Sessions() => Read(
        "SELECT tenant, id, user_id, status, metadata, budgets, created_at, updated_at, message_count FROM sessions",
        r => new SessionRow(r.GetString(0), r.GetString(1), PostgresText.Read(r, 2), r.GetString(3), Nullable(r, 4), Nullable(r, 5), Time(r, 6),
            Time(r, 7), r.GetInt32(8)));

    public List<MessageRow> Messages() => Read(
        "SELECT tenant, session_id, sequence, id, role, content, metadata, working_set, citation_check, created_at FROM messages",
        r => new MessageRow(r.GetString(0), r.GetString(1), r.GetInt32(2), r.GetString(3), r.GetString(4), PostgresText.Read(r, 5)!, Nullable(r, 6),
            Nullable(r, 7), Nullable(r, 8), Time(r, 9)));

    public List<TurnBudgetRow> TurnBudgets() => Read(
        "SELECT tenant, session_id, sequence, history_budget, history_tokens, total_budget FROM turn_budgets",
        r => new TurnBudgetRow(r.GetString(0), r.GetString(1), r.GetInt32(2), r.GetInt32(3), r.GetInt32(4), r.IsDBNull(5) ? null : r.GetInt32(5)));

    public List<IdempotencyKeyRow> IdempotencyKeys() => Read(
        "SELECT tenant, key, fingerprint, status, body, location, created_at, expires_at FROM idempotency_keys",
        r => new IdempotencyKeyRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt32(3), PostgresText.Read(r, 4)!, Nullable(r, 5),
            Time(r, 6), Time(r, 7)));

    // One transaction per table: a failure leaves no half-written table behind it (and the empty-target check refuses a
    // retry onto the tables written before it, which is what the operator must see).
    private void Insert(string table, string[] columns, IEnumerable<object?[]> rows, bool overriding = false)
    {
        var names = columns.Select(c => c.Split(' ')[0]).ToArray();
        var types = columns.Select(c => c.Split(' ')[1]).ToArray();
        using var transaction = connection.BeginTransaction();
        foreach (var batch in rows.Chunk(BatchRows))
        {
            var sql = new StringBuilder($"INSERT INTO {table} ({string.Join(", ", names)}) ");
            // The source's ids are kept (they are what working sets and citations name), over the identity columns' own.
            sql.Append(overriding ? "OVERRIDING SYSTEM VALUE VALUES " : "VALUES ");
            using var command = new NpgsqlCommand { Connection = connection, Transaction = transaction };
            for (int row = 0; row < batch.Length; row++)
            {
                sql.Append(row == 0 ? "(" : ", (");
                for (int column = 0; column < names.Length; column++)
                {
                    // Cast: a null carries no type of its own.
                    sql.Append(column == 0 ? "" : ", ").Append('$').Append(command.Parameters.Count + 1).Append("::").Append(types[column]);
                    command.Parameters.Add(new NpgsqlParameter { Value = batch[row][column] ?? DBNull.Value });
                }

                sql.Append(')');
            }

            command.CommandText = sql.ToString();
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    // The next id an ingest or upload takes must follow the copied ones.
    private void RestartIdentity(string table) => PgSql.Execute(connection, null,
        $"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table} HAVING max(id) IS NOT NULL");

    private List<T> Read<T>(string sql, Func<NpgsqlDataReader, T> row)
    {
        // In a transaction, as every statement of the store on PGlite (see PgSession).
        using var transaction = connection.BeginTransaction();
        var rows = new List<T>();
        using (var command = new NpgsqlCommand(sql, connection, transaction))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                rows.Add(row(reader));
            }
        }

        transaction.Commit();
        return rows;
    }

    private static string? Nullable(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static DateTimeOffset Time(NpgsqlDataReader reader, int ordinal) => reader.GetFieldValue<DateTimeOffset>(ordinal);
}
