using ContextCompiler.Engine.Sessions;
using ContextCompiler.Engine.Sessions.Compacting;
using Npgsql;
using NpgsqlTypes;

namespace ContextCompiler.Storage.Postgres;

/// <summary>
/// The PostgreSQL <see cref="ICompactionStore"/>. Two replicas compacting one session at once meet on the primary key
/// (tenant, session, number): the second is refused, so each number holds one summary.
/// </summary>
public sealed class PostgresCompactionRepository(PostgresDatabase database) : ICompactionStore
{
    private const string Columns =
        "id, number, from_sequence, through_sequence, at_sequence, summary, token_count, summarizer, model, prompt_hash, trigger, fallback_reason, created_at";

    private readonly NpgsqlDataSource _dataSource = database.DataSource;

    /// <inheritdoc />
    public IReadOnlyList<Compaction> List(string tenant, string sessionId)
    {
        using var connection = _dataSource.OpenConnection();
        using var select = new NpgsqlCommand($"SELECT {Columns} FROM compactions WHERE tenant = $1 AND session_id = $2 ORDER BY number", connection);
        select.Parameters.Add(Text(tenant));
        select.Parameters.Add(Text(sessionId));
        using var reader = select.ExecuteReader();
        var compactions = new List<Compaction>();
        while (reader.Read())
        {
            compactions.Add(new Compaction(
                reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3), reader.GetInt32(4), PostgresText.Read(reader, 5)!,
                reader.GetInt32(6), reader.GetString(7), Nullable(reader, 8), Nullable(reader, 9), reader.GetString(10), Nullable(reader, 11),
                reader.GetFieldValue<DateTimeOffset>(12)));
        }

        return compactions;
    }

    /// <inheritdoc />
    public void Add(string tenant, string sessionId, Compaction compaction)
    {
        using var connection = _dataSource.OpenConnection();
        using var insert = new NpgsqlCommand($"""
            INSERT INTO compactions (tenant, session_id, {Columns})
            SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15
            WHERE EXISTS (SELECT 1 FROM sessions WHERE tenant = $1 AND id = $2)
            """, connection);
        insert.Parameters.AddRange(new NpgsqlParameter[]
        {
            Text(tenant), Text(sessionId), Text(compaction.Id), Value(compaction.Number), Value((int)compaction.FromSequence), Value((int)compaction.ThroughSequence),
            Value((int)compaction.AtSequence), new NpgsqlParameter { Value = PostgresText.Bind(compaction.Summary), NpgsqlDbType = NpgsqlDbType.Bytea },
            Value(compaction.TokenCount), Text(compaction.Summarizer), Text(compaction.Model), Text(compaction.PromptHash), Text(compaction.Trigger),
            Text(compaction.FallbackReason), new NpgsqlParameter { Value = PostgresTime.Truncate(compaction.CreatedAt).ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz },
        });
        try
        {
            if (insert.ExecuteNonQuery() == 0)
            {
                throw new SessionNotFoundException(sessionId);
            }
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new SessionConflictException($"Session '{sessionId}' was compacted by another replica at the same time; its summary is stored once.");
        }
    }

    private static string? Nullable(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter Value<T>(T value) => new NpgsqlParameter<T> { TypedValue = value };
}
