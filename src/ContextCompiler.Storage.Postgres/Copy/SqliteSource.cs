using System.Runtime.InteropServices;
using ContextCompiler.Engine.Index;
using Microsoft.Data.Sqlite;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Storage.Postgres.Copy;

/// <summary>
/// The SQLite store read as the copy's rows: the one place the copy knows SQLite's schema. Text is read as its exact
/// bytes (<see cref="ExactText"/>), times are cut to the whole microsecond PostgreSQL keeps (<see cref="PostgresTime"/>),
/// corpus keys become (tenant, name) rows, and vectors come from the vec0 table as stored, so nothing is embedded again.
/// </summary>
/// <param name="connection">A connection of the index (<see cref="IndexStore.OpenConnection"/>: sqlite-vec loaded).</param>
public sealed class SqliteSource(SqliteConnection connection)
{
    /// <summary>Every corpus; an operator's (no tenant) under tenant <c>''</c>.</summary>
    public List<CorpusRow> Corpora() => Read("SELECT tenant, name, shared, created_at FROM corpora",
        r => new CorpusRow(Text(r, 0) ?? PostgresCorpusKeys.OperatorTenant, Text(r, 1)!, r.GetInt64(2) != 0, Time(r, 3)));

    /// <summary>Every artifact, as a document of the (tenant, corpus) its corpus key names.</summary>
    public List<DocumentRow> Documents() => Read(
        "SELECT id, corpus, path, kind, media_type, content_hash, content, original, bytes, chunking, ingested_at FROM artifacts",
        r =>
        {
            var corpus = PostgresCorpusKeys.Parse(Text(r, 1)!);
            return new DocumentRow(r.GetInt64(0), corpus.Tenant, corpus.Corpus, Text(r, 2)!, Text(r, 3)!, Text(r, 4), Text(r, 5)!, Text(r, 6)!,
                Text(r, 7), r.GetInt64(8), Text(r, 9)!, Time(r, 10));
        });

    /// <summary>Every span with its vector (null when it has none) and the searchable text the PostgreSQL store gives it.</summary>
    public List<SpanRow> Spans()
    {
        var vectors = IndexReader.Vectors(connection);
        return Read("""
            SELECT s.id, a.corpus, a.path, s.ordinal, s.start_line, s.end_line, s.tokens, s.heading, s.text
            FROM spans s JOIN artifacts a ON a.id = s.artifact_id
            """,
            r =>
            {
                long id = r.GetInt64(0);
                var corpus = PostgresCorpusKeys.Parse(Text(r, 1)!);
                string path = Text(r, 2)!, heading = Text(r, 7)!, text = Text(r, 8)!;
                return new SpanRow(id, corpus.Tenant, corpus.Corpus, path, r.GetInt32(3), r.GetInt32(4), r.GetInt32(5), r.GetInt32(6), heading,
                    PostgresSpanWriter.Searchable(path, heading, text), text,
                    vectors.TryGetValue(id, out byte[]? bytes) ? MemoryMarshal.Cast<byte, float>(bytes).ToArray() : null);
            });
    }

    /// <summary>Every session.</summary>
    public List<SessionRow> Sessions() => Read(
        "SELECT tenant, id, user_id, status, metadata, budgets, created_at, updated_at, message_count FROM sessions",
        r => new SessionRow(Text(r, 0)!, Text(r, 1)!, Text(r, 2), Text(r, 3)!, Text(r, 4), Text(r, 5), Time(r, 6), Time(r, 7), r.GetInt32(8)));

    /// <summary>Every message, with its working set (a separate table in SQLite).</summary>
    public List<MessageRow> Messages() => Read("""
        SELECT s.tenant, m.session_id, m.sequence, m.id, m.role, m.content, m.metadata, w.json, m.citation_check, m.created_at
        FROM messages m JOIN sessions s ON s.id = m.session_id LEFT JOIN working_sets w ON w.message_id = m.id
        """,
        r => new MessageRow(Text(r, 0)!, Text(r, 1)!, r.GetInt32(2), Text(r, 3)!, Text(r, 4)!, Text(r, 5)!, Text(r, 6), Text(r, 7), Text(r, 8), Time(r, 9)));

    /// <summary>Every turn's budgets, named by its message's session and sequence (SQLite names the message by id).</summary>
    public List<TurnBudgetRow> TurnBudgets() => Read("""
        SELECT s.tenant, m.session_id, m.sequence, b.history_budget, b.history_tokens, b.total_budget
        FROM turn_budgets b JOIN messages m ON m.id = b.message_id JOIN sessions s ON s.id = m.session_id
        """,
        r => new TurnBudgetRow(Text(r, 0)!, Text(r, 1)!, r.GetInt32(2), r.GetInt32(3), r.GetInt32(4), r.IsDBNull(5) ? null : r.GetInt32(5)));

    /// <summary>The idempotency keys unexpired at <paramref name="now"/>: an expired one answers nothing, so it is not moved.</summary>
    public List<IdempotencyKeyRow> IdempotencyKeys(DateTimeOffset now) => Read(
        "SELECT tenant, key, fingerprint, status, body, location, created_at, expires_at FROM idempotency_keys WHERE expires_at > $now",
        r => new IdempotencyKeyRow(Text(r, 0)!, Text(r, 1)!, Text(r, 2)!, r.GetInt32(3), Text(r, 4)!, Text(r, 5), Time(r, 6), Time(r, 7)),
        ("$now", Timestamps.Format(now)));

    private List<T> Read<T>(string sql, Func<SqliteDataReader, T> row, params (string Name, object Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(row(reader));
        }

        return rows;
    }

    private static string? Text(SqliteDataReader reader, int ordinal) => ExactText.Read(reader, ordinal);

    private static DateTimeOffset Time(SqliteDataReader reader, int ordinal) => PostgresTime.Truncate(Timestamps.Parse(reader.GetString(ordinal)));
}
