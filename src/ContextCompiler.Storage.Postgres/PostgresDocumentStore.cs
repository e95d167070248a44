using System.Buffers.Text;
using System.Globalization;
using System.Text;
using ContextCompiler.Core.Ingest;
using ContextCompiler.Core.Tokenization;
using ContextCompiler.Engine.Corpora;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Ingest;
using Npgsql;

namespace ContextCompiler.Storage.Postgres;

/// <summary>
/// The PostgreSQL <see cref="IDocumentStore"/>, with the SQLite store's rules, messages and order. A PUT chunks with the
/// same <see cref="Chunker"/> and writes through <see cref="PostgresSpanWriter"/>, as ingestion does, in one transaction:
/// the document is in BM25 retrieval when the call returns, on every replica (they all query the same tables); vectors
/// follow from the fillers. Quotas are checked in that transaction under the tenant's advisory write lock, so concurrent
/// uploads through any number of replicas cannot overshoot them.
/// </summary>
public sealed class PostgresDocumentStore(PostgresDatabase database, ICorpusStore corpora, ITokenizer tokenizer, TimeProvider? clock = null)
    : IDocumentStore
{
    private const string InfoSql = """
        SELECT d.corpus, d.path, d.media_type, d.bytes, d.content_hash, d.updated_at,
            (SELECT count(*) FROM spans s WHERE s.tenant = d.tenant AND s.corpus = d.corpus AND s.path = d.path),
            (SELECT COALESCE(sum(s.tokens), 0) FROM spans s WHERE s.tenant = d.tenant AND s.corpus = d.corpus AND s.path = d.path),
            (SELECT count(*) FROM spans s WHERE s.tenant = d.tenant AND s.corpus = d.corpus AND s.path = d.path AND s.embedding IS NULL)
        FROM documents d
        """;

    private readonly Chunker _chunker = new(tokenizer, new ChunkingOptions());
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <inheritdoc />
    public DocumentWrite Put(string tenant, string corpus, string path, string text, string? mediaType)
    {
        ArgumentNullException.ThrowIfNull(text);
        DocumentPaths.Validate(path);
        var kind = DocumentKinds.Of(mediaType, path);
        long bytes = Encoding.UTF8.GetByteCount(text);
        if (bytes > corpora.Limits.MaxDocumentBytes)
        {
            throw new DocumentTooLargeException($"The document has {bytes} bytes; at most {corpora.Limits.MaxDocumentBytes} are allowed.");
        }

        string key = corpora.OwnedKey(tenant, corpus);
        var loaded = SourceLoader.FromText(new SourceFile(key, $"{key}/{path}", path), kind, text, hash => IsStored(key, path, hash, mediaType));
        if (loaded.SkipReason is not null)
        {
            throw new ArgumentException($"The document cannot be indexed: {loaded.SkipReason}.");
        }

        if (loaded.Content is null)
        {
            return new DocumentWrite(Info(key, path) ?? throw new DocumentNotFoundException(corpus, path), Created: false, Changed: false);
        }

        // Chunked before the transaction: it is the slow part and needs nothing from the database, and an open
        // transaction holds the tenant's lock (and, on PGlite, every other connection).
        var chunks = _chunker.Split(loaded.Content, kind);
        var artifact = new PreparedArtifact(key, path, kind, loaded.ContentHash, _chunker.Options.Fingerprint, loaded.Content, bytes, chunks);
        StoredArtifact? current;
        using (var connection = database.DataSource.OpenConnection())
        using (var transaction = connection.BeginTransaction())
        {
            PgSql.LockTenant(connection, transaction, tenant);
            // Again under the lock: the corpus may have been deleted since OwnedKey, and the path written by another replica.
            var now = _clock.GetUtcNow();
            try
            {
                PostgresSpanWriter.EnsureCorpus(connection, transaction, key, now);
            }
            catch (CorpusNotFoundException)
            {
                throw new CorpusNotFoundException(corpus);
            }

            current = Existing(connection, transaction, key, path);
            CheckQuota(connection, transaction, tenant, bytes, current);
            PostgresSpanWriter.Write(connection, transaction, artifact, current, now, original: text, mediaType: mediaType);
            transaction.Commit();
            database.SpansChanged(artifact.Chunks.Count);
        }

        return new DocumentWrite(Info(key, path)!, Created: current is null, Changed: true);
    }

    /// <inheritdoc />
    public StoredDocument Get(string tenant, string corpus, string path)
    {
        string key = corpora.ReadableKey(tenant, corpus);
        var row = PostgresCorpusKeys.Parse(key);
        using var session = PgSession.Begin(database.DataSource);
        var connection = session.Connection;
        var info = Info(connection, key, path) ?? throw new DocumentNotFoundException(corpus, path);
        using var select = PgSql.Command(connection, null,
            "SELECT original, content FROM documents WHERE tenant = $1 AND corpus = $2 AND path = $3", row.Tenant, row.Corpus, path);
        using var reader = select.ExecuteReader();
        if (!reader.Read())
        {
            // Deleted between the two reads.
            throw new DocumentNotFoundException(corpus, path);
        }

        // A document ingested from a file has no original: its converted text is what it was stored with.
        return new StoredDocument(info, PostgresText.Read(reader, 0) ?? PostgresText.Read(reader, 1)!);
    }

    /// <inheritdoc />
    public void Delete(string tenant, string corpus, string path)
    {
        string key = corpora.OwnedKey(tenant, corpus);
        using var connection = database.DataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        PgSql.LockTenant(connection, transaction, tenant);
        var current = Existing(connection, transaction, key, path) ?? throw new DocumentNotFoundException(corpus, path);
        PostgresSpanWriter.Delete(connection, transaction, current.Id);
        transaction.Commit();
        database.SpansChanged();
    }

    /// <inheritdoc />
    public DocumentPage List(string tenant, string corpus, string? prefix, int? limit, string? cursor)
    {
        int take = DocumentPaging.Take(limit);
        var page = Page(corpora.ReadableKey(tenant, corpus), prefix, take, cursor);
        return page with { Items = page.Items.Select(d => d with { Corpus = corpus }).ToList() };
    }

    /// <inheritdoc />
    public DocumentPage ListByKey(string key, string? prefix, int? limit, string? cursor)
    {
        int take = DocumentPaging.Take(limit);
        var row = PostgresCorpusKeys.Parse(key);
        using (var session = PgSession.Begin(database.DataSource))
        {
            if (PgSql.Scalar(session.Connection, null, "SELECT 1 FROM corpora WHERE tenant = $1 AND name = $2", row.Tenant, row.Corpus) is null)
            {
                throw new CorpusNotFoundException(key);
            }
        }

        return Page(key, prefix, take, cursor);
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<(string Corpus, string Path), DateTimeOffset?> LastWritten(IEnumerable<(string Corpus, string Path)> documents)
    {
        ArgumentNullException.ThrowIfNull(documents);
        using var session = PgSession.Begin(database.DataSource);
        var connection = session.Connection;
        using var select = PgSql.Command(connection, null, "SELECT updated_at FROM documents WHERE tenant = $1 AND corpus = $2 AND path = $3", "", "", "");
        var result = new Dictionary<(string, string), DateTimeOffset?>();
        foreach (var document in documents.Distinct())
        {
            var row = PostgresCorpusKeys.Parse(document.Corpus);
            select.Parameters[0].Value = row.Tenant;
            select.Parameters[1].Value = row.Corpus;
            select.Parameters[2].Value = document.Path;
            using var reader = select.ExecuteReader();
            result[document] = reader.Read() ? reader.GetFieldValue<DateTimeOffset>(0) : null;
        }

        return result;
    }

    private DocumentPage Page(string key, string? prefix, int take, string? cursor)
    {
        string after = cursor is null ? string.Empty : DocumentPaging.DecodeCursor(cursor);
        var row = PostgresCorpusKeys.Parse(key);
        using var session = PgSession.Begin(database.DataSource);
        var connection = session.Connection;
        // COLLATE "C": paths compare and page in code-point order, as in SQLite, whatever the database's collation is;
        // starts_with rather than LIKE, where '%' and '_' in a prefix would be wildcards.
        using var select = PgSql.Command(connection, null, $"""
            {InfoSql}
            WHERE d.tenant = $1 AND d.corpus = $2 AND d.path COLLATE "C" > $3 AND ($4::text IS NULL OR starts_with(d.path, $4))
            ORDER BY d.path COLLATE "C" LIMIT $5
            """, row.Tenant, row.Corpus, after, PgSql.Text(string.IsNullOrEmpty(prefix) ? null : prefix), take + 1);
        using var reader = select.ExecuteReader();
        var items = new List<DocumentInfo>();
        while (reader.Read())
        {
            items.Add(ReadInfo(reader));
        }

        string? next = items.Count > take ? DocumentPaging.EncodeCursor(items[take - 1].Path) : null;
        return new DocumentPage(items.Take(take).ToList(), next);
    }

    private void CheckQuota(NpgsqlConnection connection, NpgsqlTransaction transaction, string tenant, long bytes, StoredArtifact? replaced)
    {
        long documents, stored;
        using (var usage = PgSql.Command(connection, transaction,
                   "SELECT count(*), COALESCE(sum(bytes), 0) FROM documents WHERE tenant = $1 AND id IS DISTINCT FROM $2", tenant, replaced?.Id ?? -1L))
        using (var reader = usage.ExecuteReader())
        {
            // Without the document being replaced: its bytes and count make way for the new version's.
            reader.Read();
            documents = reader.GetInt64(0);
            stored = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
        }

        var limits = corpora.Limits;
        if (documents + 1 > limits.MaxDocumentsPerTenant)
        {
            throw new QuotaExceededException($"The tenant stores {documents} documents, the most allowed ({limits.MaxDocumentsPerTenant}); delete some first.");
        }

        if (stored + bytes > limits.MaxBytesPerTenant)
        {
            throw new QuotaExceededException(
                $"The tenant stores {stored} bytes; {bytes} more would exceed its {limits.MaxBytesPerTenant} bytes. Delete documents first.");
        }
    }

    private static StoredArtifact? Existing(NpgsqlConnection connection, NpgsqlTransaction transaction, string key, string path)
    {
        var row = PostgresCorpusKeys.Parse(key);
        using var select = PgSql.Command(connection, transaction,
            "SELECT id, content_hash, chunking FROM documents WHERE tenant = $1 AND corpus = $2 AND path = $3", row.Tenant, row.Corpus, path);
        using var reader = select.ExecuteReader();
        return reader.Read() ? new StoredArtifact(reader.GetInt64(0), reader.GetString(1), reader.GetString(2)) : null;
    }

    // The same text, chunked the same way, with the same media type (a missing one included) is stored already.
    private bool IsStored(string key, string path, string hash, string? mediaType)
    {
        var row = PostgresCorpusKeys.Parse(key);
        using var session = PgSession.Begin(database.DataSource);
        var connection = session.Connection;
        return PgSql.Scalar(connection, null, """
            SELECT 1 FROM documents
            WHERE tenant = $1 AND corpus = $2 AND path = $3 AND content_hash = $4 AND chunking = $5 AND media_type IS NOT DISTINCT FROM $6
            """, row.Tenant, row.Corpus, path, hash, _chunker.Options.Fingerprint, PgSql.Text(mediaType)) is not null;
    }

    private DocumentInfo? Info(string key, string path)
    {
        using var session = PgSession.Begin(database.DataSource);
        var connection = session.Connection;
        return Info(connection, key, path);
    }

    private static DocumentInfo? Info(NpgsqlConnection connection, string key, string path)
    {
        var row = PostgresCorpusKeys.Parse(key);
        using var select = PgSql.Command(connection, null, $"{InfoSql} WHERE d.tenant = $1 AND d.corpus = $2 AND d.path = $3", row.Tenant, row.Corpus, path);
        using var reader = select.ExecuteReader();
        return reader.Read() ? ReadInfo(reader) : null;
    }

    // The corpus column is the corpus's name, which is how a tenant's corpus is shown to it.
    private static DocumentInfo ReadInfo(NpgsqlDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetInt64(3), checked((int)r.GetInt64(6)),
            Convert.ToInt64(r.GetValue(7), CultureInfo.InvariantCulture), r.GetString(4),
            r.GetInt64(8) == 0 ? DocumentStatus.Ready : DocumentStatus.Indexing, r.GetFieldValue<DateTimeOffset>(5));
}
