using ContextCompiler.Core.Text;
using ContextCompiler.Engine.Corpora;
using ContextCompiler.Engine.Index;
using Npgsql;
using NpgsqlTypes;

namespace ContextCompiler.Storage.Postgres;

/// <summary>
/// Writes artifacts with their spans inside a caller's transaction: the one path both <see cref="PostgresSpanIndex.Write"/>
/// (ingestion) and <see cref="PostgresDocumentStore.Put"/> (uploads) take, as SQLite's SpanIndexWriter is for that store.
/// </summary>
internal static class PostgresSpanWriter
{
    /// <summary>
    /// Makes sure the corpus <paramref name="key"/> is registered: an operator's (no '/') is added, shared, when missing;
    /// a tenant's must exist.
    /// </summary>
    /// <exception cref="CorpusNotFoundException">A tenant's corpus that does not exist.</exception>
    public static void EnsureCorpus(NpgsqlConnection connection, NpgsqlTransaction transaction, string key, DateTimeOffset now)
    {
        var corpus = PostgresCorpusKeys.Parse(key);
        if (corpus.Tenant.Length > 0)
        {
            // FOR SHARE: a concurrent corpus delete waits for this write instead of cascading under it.
            if (PgSql.Scalar(connection, transaction, "SELECT 1 FROM corpora WHERE tenant = $1 AND name = $2 FOR SHARE", corpus.Tenant, corpus.Corpus) is null)
            {
                throw new CorpusNotFoundException(key);
            }

            return;
        }

        PgSql.Execute(connection, transaction, """
            INSERT INTO corpora (tenant, name, shared, created_at, updated_at) VALUES ('', $1, true, $2, $2) ON CONFLICT DO NOTHING
            """, corpus.Corpus, now);
    }

    /// <summary>Removes an artifact; its spans and vectors go with it (foreign keys cascade).</summary>
    /// <exception cref="InvalidOperationException">No artifact has that id.</exception>
    public static void Delete(NpgsqlConnection connection, NpgsqlTransaction transaction, long artifactId)
    {
        if (PgSql.Execute(connection, transaction, "DELETE FROM documents WHERE id = $1", artifactId) != 1)
        {
            throw new InvalidOperationException($"Artifact {artifactId} does not exist.");
        }
    }

    /// <summary>
    /// Writes <paramref name="artifact"/>, replacing <paramref name="previous"/> if given (a new id, the next generation,
    /// the first version's creation time), with the text and media type an upload was sent with.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="previous"/> does not exist (any more).</exception>
    public static long Write(NpgsqlConnection connection, NpgsqlTransaction transaction, PreparedArtifact artifact, StoredArtifact? previous,
        DateTimeOffset now, string? original = null, string? mediaType = null)
    {
        var corpus = PostgresCorpusKeys.Parse(artifact.Corpus);
        long generation = 1;
        var created = now;
        if (previous is not null)
        {
            using var delete = PgSql.Command(connection, transaction, "DELETE FROM documents WHERE id = $1 RETURNING generation, created_at", previous.Id);
            using var reader = delete.ExecuteReader();
            if (!reader.Read())
            {
                throw new InvalidOperationException($"Artifact {previous.Id} does not exist.");
            }

            generation = reader.GetInt64(0) + 1;
            created = reader.GetFieldValue<DateTimeOffset>(1);
        }

        long id = (long)PgSql.Scalar(connection, transaction, """
            INSERT INTO documents (tenant, corpus, path, kind, media_type, content_hash, content, original, bytes, chunking, generation, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id
            """, corpus.Tenant, corpus.Corpus, artifact.Path, artifact.Kind.ToString().ToLowerInvariant(), PgSql.Text(mediaType), artifact.ContentHash,
            PostgresText.Bind(artifact.Content), new NpgsqlParameter { Value = PostgresText.Bind(original), NpgsqlDbType = NpgsqlDbType.Bytea },
            artifact.Bytes, artifact.Chunking, generation, created, now)!;
        if (artifact.Chunks.Count > 0)
        {
            InsertSpans(connection, transaction, corpus, artifact, generation, now);
        }

        return id;
    }

    // One statement for all of an artifact's spans (arrays unnested in step): one round trip rather than one per span.
    private static void InsertSpans(NpgsqlConnection connection, NpgsqlTransaction transaction, CorpusRef corpus,
        PreparedArtifact artifact, long generation, DateTimeOffset now)
    {
        var chunks = artifact.Chunks;
        PgSql.Execute(connection, transaction, """
            INSERT INTO spans (tenant, corpus, path, ordinal, start_line, end_line, tokens, heading, text, exact_text, generation, updated_at)
            SELECT $1, $2, $3, ordinal - 1, start_line, end_line, tokens, heading, text, exact_text, $10, $11
            FROM unnest($4::integer[], $5::integer[], $6::integer[], $7::bytea[], $8::text[], $9::bytea[])
                WITH ORDINALITY AS c(start_line, end_line, tokens, heading, text, exact_text, ordinal)
            """, corpus.Tenant, corpus.Corpus, artifact.Path,
            chunks.Select(c => c.StartLine).ToArray(), chunks.Select(c => c.EndLine).ToArray(), chunks.Select(c => c.Tokens).ToArray(),
            chunks.Select(c => (byte[])PostgresText.Bind(c.Heading)).ToArray(),
            chunks.Select(c => Searchable(artifact.Path, c.Heading, c.Text)).ToArray(),
            chunks.Select(c => (byte[])PostgresText.Bind(c.Text)).ToArray(), generation, now);
    }

    /// <summary>
    /// What BM25 finds a span by (<c>spans.text</c>): its path (as words), heading trail and body, like FTS5's title,
    /// heading and body columns; pg_textsearch indexes one column, so they are one text here, without per-column weights.
    /// </summary>
    public static string Searchable(string path, string heading, string text) =>
        SearchableText.Of(path.Replace('/', ' ') + "\n" + heading + "\n" + text);
}
