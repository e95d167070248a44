using System.Diagnostics;
using System.Globalization;
using System.Text;
using ContextCompiler.Core.Ingest;
using ContextCompiler.Core.Telemetry;
using ContextCompiler.Core.Tokenization;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Sessions;
using ContextCompiler.Engine.Ingest;
using Microsoft.Data.Sqlite;
using ContextCompiler.Engine.Corpora;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>
/// A tenant's documents, one at a time. A PUT converts, chunks and writes the text, its spans and their full-text rows
/// in one transaction, so the document is in lexical retrieval when the call returns; vectors follow in the background
/// (<see cref="VectorIndexer"/>), and the document's status says when they are all there. Quotas are checked inside
/// the same transaction, so concurrent uploads cannot overshoot them.
/// </summary>
public sealed class DocumentStore(IndexStore store, CorpusStore corpora, ITokenizer tokenizer, IndexSnapshotCache? snapshots = null) : IDocumentStore
{
    private const string InfoColumns = """
        a.corpus, a.path, a.media_type, a.bytes, a.content_hash, a.ingested_at,
        (SELECT COUNT(*) FROM spans s WHERE s.artifact_id = a.id),
        (SELECT COALESCE(SUM(s.tokens), 0) FROM spans s WHERE s.artifact_id = a.id),
        (SELECT COUNT(*) FROM spans s WHERE s.artifact_id = a.id AND NOT EXISTS (SELECT 1 FROM span_vectors v WHERE v.rowid = s.id))
        """;

    private readonly Chunker _chunker = new(tokenizer, new ChunkingOptions());
    private readonly Lock _writeGate = new();

    /// <inheritdoc />
    public DocumentWrite Put(string tenant, string corpus, string path, string text, string? mediaType)
    {
        using var activity = WriteActivity("document.put", tenant, corpus);
        DocumentPaths.Validate(path);
        var kind = DocumentKinds.Of(mediaType, path);
        long bytes = Encoding.UTF8.GetByteCount(text);
        activity?.SetTag(Tags.Bytes, bytes);
        if (bytes > corpora.Limits.MaxDocumentBytes)
        {
            throw new DocumentTooLargeException($"The document has {bytes} bytes; at most {corpora.Limits.MaxDocumentBytes} are allowed.");
        }

        string key = corpora.OwnedKey(tenant, corpus);
        var file = new SourceFile(key, $"{key}/{path}", path);
        var loaded = SourceLoader.FromText(file, kind, text, hash => IsStored(key, path, hash, mediaType));
        if (loaded.SkipReason is not null)
        {
            throw new ArgumentException($"The document cannot be indexed: {loaded.SkipReason}.");
        }

        if (loaded.Content is null)
        {
            activity?.SetTag(Tags.Changed, false);
            return new DocumentWrite(Info(key, path) ?? throw new DocumentNotFoundException(corpus, path), Created: false, Changed: false);
        }

        // Chunked outside the write lock: it is the slow part, and it needs nothing from the database.
        var chunks = _chunker.Split(loaded.Content, kind);
        var artifact = new PreparedArtifact(key, path, kind, loaded.ContentHash, _chunker.Options.Fingerprint, loaded.Content, bytes, chunks);
        DocumentWrite written;
        lock (_writeGate)
        {
            using var lease = store.Rent();
            using var transaction = lease.Connection.BeginTransaction(deferred: false);
            var current = Existing(lease.Connection, transaction, key, path);
            CheckQuota(lease.Connection, transaction, tenant, bytes, current);
            using (var writer = new SpanIndexWriter(lease.Connection, transaction, store.Clock))
            {
                writer.Write(artifact, current);
            }

            using (var keep = Sql.Command(lease.Connection, transaction,
                "UPDATE artifacts SET original = CAST($original AS TEXT), media_type = $media WHERE corpus = $corpus AND path = $path",
                ("$original", ExactText.Bind(text)), ("$media", mediaType), ("$corpus", key), ("$path", path)))
            {
                keep.ExecuteNonQuery();
            }

            IndexStore.BumpGeneration(lease.Connection, transaction, spansChanged: true);
            transaction.Commit();
            written = new DocumentWrite(Info(lease.Connection, key, path)!, Created: current is null, Changed: true);
        }

        // Read your writes: the in-memory copy holds the document before the caller hears it is stored.
        snapshots?.Refresh();
        activity?.SetTag(Tags.Changed, true);
        activity?.SetTag(Tags.Spans, chunks.Count);
        return written;
    }

    /// <inheritdoc />
    public StoredDocument Get(string tenant, string corpus, string path)
    {
        string key = corpora.ReadableKey(tenant, corpus);
        using var lease = store.Rent();
        var info = Info(lease.Connection, key, path) ?? throw new DocumentNotFoundException(corpus, path);
        using var select = Sql.Command(lease.Connection, null,
            "SELECT original, content FROM artifacts WHERE corpus = $corpus AND path = $path", ("$corpus", key), ("$path", path));
        using var reader = select.ExecuteReader();
        reader.Read();
        return new StoredDocument(info, reader.IsDBNull(0) ? reader.GetString(1) : ExactText.Read(reader, 0)!);
    }

    /// <inheritdoc />
    public void Delete(string tenant, string corpus, string path)
    {
        using var activity = WriteActivity("document.delete", tenant, corpus);
        string key = corpora.OwnedKey(tenant, corpus);
        lock (_writeGate)
        {
            using var lease = store.Rent();
            using var transaction = lease.Connection.BeginTransaction(deferred: false);
            var current = Existing(lease.Connection, transaction, key, path) ?? throw new DocumentNotFoundException(corpus, path);
            using (var writer = new SpanIndexWriter(lease.Connection, transaction, store.Clock))
            {
                writer.Delete(current.Id);
            }

            IndexStore.BumpGeneration(lease.Connection, transaction, spansChanged: true);
            transaction.Commit();
        }

        // A deleted document must be gone from the next compile, whoever asks.
        snapshots?.Refresh();
    }

    // A document write's span: the tenant and corpus, never the path or the text.
    private static Activity? WriteActivity(string name, string tenant, string corpus)
    {
        var activity = Instrumentation.Source.StartActivity(name);
        activity?.SetTag(Tags.Tenant, tenant);
        activity?.SetTag(Tags.Corpus, corpus);
        return activity;
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
        using (var lease = store.Rent())
        using (var exists = Sql.Command(lease.Connection, null, "SELECT 1 FROM corpora WHERE key = $key", ("$key", key)))
        {
            if (exists.ExecuteScalar() is null)
            {
                throw new CorpusNotFoundException(key);
            }
        }

        return Page(key, prefix, take, cursor);
    }

    private DocumentPage Page(string key, string? prefix, int take, string? cursor)
    {
        string after = cursor is null ? string.Empty : DocumentPaging.DecodeCursor(cursor);
        using var lease = store.Rent();
        // substr rather than LIKE: a prefix may hold '%' or '_', which LIKE would read as wildcards.
        using var select = Sql.Command(lease.Connection, null, $"""
            SELECT {InfoColumns} FROM artifacts a
            WHERE a.corpus = $corpus AND a.path > $after AND ($prefix IS NULL OR substr(a.path, 1, length($prefix)) = $prefix)
            ORDER BY a.path LIMIT $take
            """, ("$corpus", key), ("$after", after), ("$prefix", string.IsNullOrEmpty(prefix) ? null : prefix), ("$take", take + 1));
        var items = new List<DocumentInfo>();
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            items.Add(ReadInfo(reader));
        }

        string? next = items.Count > take ? DocumentPaging.EncodeCursor(items[take - 1].Path) : null;
        return new DocumentPage(items.Take(take).ToList(), next);
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<(string Corpus, string Path), DateTimeOffset?> LastWritten(IEnumerable<(string Corpus, string Path)> documents)
    {
        using var lease = store.Rent();
        using var select = Sql.Command(lease.Connection, null, "SELECT ingested_at FROM artifacts WHERE corpus = $corpus AND path = $path",
            ("$corpus", string.Empty), ("$path", string.Empty));
        var result = new Dictionary<(string, string), DateTimeOffset?>();
        foreach (var document in documents.Distinct())
        {
            select.Parameters["$corpus"].Value = document.Corpus;
            select.Parameters["$path"].Value = document.Path;
            result[document] = select.ExecuteScalar() is string at ? Timestamps.Parse(at) : null;
        }

        return result;
    }

    private void CheckQuota(SqliteConnection connection, SqliteTransaction transaction, string tenant, long bytes, StoredArtifact? replaced)
    {
        using var usage = Sql.Command(connection, transaction, """
            SELECT COUNT(a.id), COALESCE(SUM(a.bytes), 0) FROM artifacts a JOIN corpora c ON c.key = a.corpus WHERE c.tenant = $tenant
            """, ("$tenant", tenant));
        using var reader = usage.ExecuteReader();
        reader.Read();
        long documents = reader.GetInt64(0);
        long stored = reader.GetInt64(1);
        if (replaced is not null)
        {
            documents--;
            using var old = Sql.Command(connection, transaction, "SELECT bytes FROM artifacts WHERE id = $id", ("$id", replaced.Id));
            stored -= Convert.ToInt64(old.ExecuteScalar(), CultureInfo.InvariantCulture);
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

    private static StoredArtifact? Existing(SqliteConnection connection, SqliteTransaction? transaction, string key, string path)
    {
        using var select = Sql.Command(connection, transaction,
            "SELECT id, content_hash, chunking FROM artifacts WHERE corpus = $corpus AND path = $path", ("$corpus", key), ("$path", path));
        using var reader = select.ExecuteReader();
        return reader.Read() ? new StoredArtifact(reader.GetInt64(0), reader.GetString(1), reader.GetString(2)) : null;
    }

    // The same text, chunked the same way, with the same media type ('IS' compares a missing one too) is stored already.
    private bool IsStored(string key, string path, string hash, string? mediaType)
    {
        using var lease = store.Rent();
        using var select = Sql.Command(lease.Connection, null, """
            SELECT 1 FROM artifacts
            WHERE corpus = $corpus AND path = $path AND content_hash = $hash AND chunking = $chunking AND media_type IS $media
            """, ("$corpus", key), ("$path", path), ("$hash", hash), ("$chunking", _chunker.Options.Fingerprint), ("$media", mediaType));
        return select.ExecuteScalar() is not null;
    }

    private DocumentInfo? Info(string key, string path)
    {
        using var lease = store.Rent();
        return Info(lease.Connection, key, path);
    }

    private static DocumentInfo? Info(SqliteConnection connection, string key, string path)
    {
        using var select = Sql.Command(connection, null, $"SELECT {InfoColumns} FROM artifacts a WHERE a.corpus = $corpus AND a.path = $path",
            ("$corpus", key), ("$path", path));
        using var reader = select.ExecuteReader();
        return reader.Read() ? ReadInfo(reader) : null;
    }

    private static DocumentInfo ReadInfo(SqliteDataReader r)
    {
        string corpus = r.GetString(0);
        // A tenant's corpus is shown by its name, as the tenant created it.
        int slash = corpus.IndexOf('/', StringComparison.Ordinal);
        return new DocumentInfo(slash < 0 ? corpus : corpus[(slash + 1)..], r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetInt64(3), r.GetInt32(6),
            r.GetInt64(7), r.GetString(4), r.GetInt64(8) == 0 ? DocumentStatus.Ready : DocumentStatus.Indexing, Timestamps.Parse(r.GetString(5)));
    }
}

