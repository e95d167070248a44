using ContextCompiler.Core.Text;
using Npgsql;
using Pgvector;

namespace ContextCompiler.Storage.Postgres.Tests;

/// <summary>Writes corpora, documents and spans straight into the schema, as the store will, for the search tests.</summary>
internal static class Spans
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Inserts a span (and its corpus and document when missing) and returns its id.</summary>
    public static async Task<long> InsertAsync(PostgresDatabase database, string tenant, string corpus, string path, int ordinal,
        string text, float[]? embedding = null)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await ExecuteAsync(connection, transaction,
            "INSERT INTO corpora (tenant, name, created_at, updated_at) VALUES ($1, $2, $3, $3) ON CONFLICT DO NOTHING",
            tenant, corpus, Now);
        await ExecuteAsync(connection, transaction, """
            INSERT INTO documents (tenant, corpus, path, kind, content_hash, content, bytes, chunking, created_at, updated_at)
            VALUES ($1, $2, $3, 'text', 'hash', $4, 0, 'test', $5, $5) ON CONFLICT DO NOTHING
            """, tenant, corpus, path, Array.Empty<byte>(), Now);
        await using var insert = new NpgsqlCommand("""
            INSERT INTO spans (tenant, corpus, path, ordinal, start_line, end_line, tokens, heading, text, exact_text, embedding, generation, updated_at)
            VALUES ($1, $2, $3, $4, 1, 1, 1, $5, $6, $7, $8, 1, $9)
            RETURNING id
            """, connection, transaction);
        foreach (object value in (object[])[tenant, corpus, path, ordinal, PostgresText.Bind(""), SearchableText.Of(text),
                     PostgresText.Bind(text), embedding is null ? DBNull.Value : new Vector(embedding), Now])
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        long id = (long)(await insert.ExecuteScalarAsync())!;
        await transaction.CommitAsync();
        return id;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (object value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await command.ExecuteNonQueryAsync();
    }
}
