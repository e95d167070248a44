using System.Text.Json;
using ContextCompiler.Core.Retrieve;
using ContextCompiler.Engine.Index;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>Reads candidate spans by id in one query.</summary>
public sealed class SqliteSpanCatalog(IndexStore store) : ISpanCatalog
{
    /// <inheritdoc />
    public IReadOnlyDictionary<long, SpanRecord> Get(IReadOnlyCollection<long> ids)
    {
        var result = new Dictionary<long, SpanRecord>(ids.Count);
        if (ids.Count == 0)
        {
            return result;
        }

        using var lease = store.Rent();
        using var command = lease.Connection.CreateCommand();
        command.CommandText = """
            SELECT s.id, a.corpus, a.path, s.start_line, s.end_line, s.heading, s.text, s.tokens
            FROM spans s JOIN artifacts a ON a.id = s.artifact_id
            WHERE s.id IN (SELECT value FROM json_each($ids))
            """;
        command.Parameters.AddWithValue("$ids", JsonSerializer.Serialize(ids));
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var key = new SpanKey(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3));
            result[key.Id] = new SpanRecord(key, reader.GetInt32(4), reader.GetString(5), reader.GetString(6), reader.GetInt32(7));
        }

        return result;
    }
}
