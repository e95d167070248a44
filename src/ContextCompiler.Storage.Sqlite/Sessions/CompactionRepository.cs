using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Sessions;
using ContextCompiler.Engine.Sessions.Compacting;
using Microsoft.Data.Sqlite;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>The SQLite <see cref="ICompactionStore"/>. The summary is kept exactly, like message content (see <see cref="ExactText"/>).</summary>
public sealed class CompactionRepository(IndexStore store) : ICompactionStore
{
    private const string Columns =
        "c.id, c.number, c.from_sequence, c.through_sequence, c.at_sequence, c.summary, c.token_count, c.summarizer, c.model, c.prompt_hash, c.trigger, c.fallback_reason, c.created_at";

    /// <inheritdoc />
    public IReadOnlyList<Compaction> List(string tenant, string sessionId)
    {
        using var lease = store.Rent();
        using var select = Sql.Command(lease.Connection, null, $"""
            SELECT {Columns} FROM compactions c JOIN sessions s ON s.id = c.session_id
            WHERE s.tenant = $tenant AND s.id = $id ORDER BY c.number
            """, ("$tenant", tenant), ("$id", sessionId));
        using var reader = select.ExecuteReader();
        var compactions = new List<Compaction>();
        while (reader.Read())
        {
            compactions.Add(new Compaction(
                reader.GetString(0), reader.GetInt32(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), ExactText.Read(reader, 5)!,
                reader.GetInt32(6), reader.GetString(7), Text(reader, 8), Text(reader, 9), reader.GetString(10), Text(reader, 11), Timestamps.Parse(reader.GetString(12))));
        }

        return compactions;
    }

    /// <inheritdoc />
    public void Add(string tenant, string sessionId, Compaction compaction)
    {
        using var lease = store.Rent();
        using var transaction = lease.Connection.BeginTransaction(deferred: false);
        using var exists = Sql.Command(lease.Connection, transaction, "SELECT 1 FROM sessions WHERE tenant = $tenant AND id = $id", ("$tenant", tenant), ("$id", sessionId));
        if (exists.ExecuteScalar() is null)
        {
            throw new SessionNotFoundException(sessionId);
        }

        using var insert = Sql.Command(lease.Connection, transaction, """
            INSERT INTO compactions (id, session_id, number, from_sequence, through_sequence, at_sequence, summary, token_count, summarizer, model, prompt_hash, trigger, fallback_reason, created_at)
            VALUES ($cid, $id, $number, $from, $through, $at, CAST($summary AS TEXT), $tokens, $summarizer, $model, $hash, $trigger, $reason, $now)
            """,
            ("$cid", compaction.Id), ("$id", sessionId), ("$number", compaction.Number), ("$from", compaction.FromSequence), ("$through", compaction.ThroughSequence),
            ("$at", compaction.AtSequence), ("$summary", ExactText.Bind(compaction.Summary)), ("$tokens", compaction.TokenCount), ("$summarizer", compaction.Summarizer),
            ("$model", compaction.Model), ("$hash", compaction.PromptHash), ("$trigger", compaction.Trigger), ("$reason", compaction.FallbackReason),
            ("$now", Timestamps.Format(compaction.CreatedAt)));
        try
        {
            insert.ExecuteNonQuery();
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 19)
        {
            // SQLITE_CONSTRAINT on (session_id, number): another process compacted this session first.
            throw new SessionConflictException($"Session '{sessionId}' was compacted by another writer at the same time; its summary is stored once.");
        }

        transaction.Commit();
    }

    private static string? Text(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
