using System.Globalization;
using ContextCompiler.Engine.Index;
using Npgsql;
using Pgvector;

namespace ContextCompiler.Storage.Postgres;

/// <summary>
/// The PostgreSQL <see cref="ISpanIndex"/>: documents and spans with their searchable text and vectors, shared by every
/// replica. Vector filling is safe from several replicas at once: <see cref="SpansWithoutVectors"/> leases the spans it
/// returns (see there), so each span is embedded once unless a replica dies mid-batch.
/// </summary>
public sealed class PostgresSpanIndex : ISpanIndex, IStoreStatus
{
    /// <summary>The vector column's dimensions (<c>vector(384)</c> in the schema).</summary>
    public const int Dimensions = 384;

    private readonly PostgresDatabase _database;
    private readonly TimeProvider _clock;

    /// <param name="model">The embedder whose vectors the index holds; it must have <see cref="Dimensions"/> dimensions.</param>
    /// <param name="claimLease">
    /// How long a filler may take to embed the spans it claimed before another replica may claim them (default 10
    /// minutes): longer than any batch takes, since a span whose lease runs out while it is embedded is embedded twice.
    /// </param>
    public PostgresSpanIndex(PostgresDatabase database, EmbeddingModel model, TimeProvider? clock = null, TimeSpan? claimLease = null)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(model);
        if (model.Dimensions != Dimensions)
        {
            throw new ArgumentException($"The PostgreSQL store holds {Dimensions}-dimension vectors; '{model.Id}' has {model.Dimensions}.", nameof(model));
        }

        _database = database;
        Model = model;
        _clock = clock ?? TimeProvider.System;
        ClaimLease = claimLease ?? TimeSpan.FromMinutes(10);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ClaimLease, TimeSpan.Zero, nameof(claimLease));
    }

    /// <inheritdoc />
    public EmbeddingModel Model { get; }

    /// <summary>How long spans returned by <see cref="SpansWithoutVectors"/> stay claimed by the caller.</summary>
    public TimeSpan ClaimLease { get; }

    /// <inheritdoc />
    public string Provider => "postgres";

    /// <inheritdoc />
    public string Location
    {
        get
        {
            // Built from the parts, so no password can reach a log whatever the connection string holds.
            var builder = new NpgsqlConnectionStringBuilder(_database.DataSource.ConnectionString);
            return string.Create(CultureInfo.InvariantCulture, $"{builder.Host}:{builder.Port}/{builder.Database}");
        }
    }

    /// <inheritdoc />
    public int SchemaVersion()
    {
        using var session = PgSession.Begin(_database.DataSource);
        var connection = session.Connection;
        return Convert.ToInt32(PgSql.Scalar(connection, null, "SELECT COALESCE(max(version), 0) FROM schema_migrations"), CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public int ArtifactCount()
    {
        using var session = PgSession.Begin(_database.DataSource);
        var connection = session.Connection;
        return Convert.ToInt32(PgSql.Scalar(connection, null, "SELECT count(*) FROM documents"), CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, StoredArtifact> Artifacts(string corpus)
    {
        var key = PostgresCorpusKeys.Parse(corpus);
        using var session = PgSession.Begin(_database.DataSource);
        var connection = session.Connection;
        using var select = PgSql.Command(connection, null,
            "SELECT path, id, content_hash, chunking FROM documents WHERE tenant = $1 AND corpus = $2", key.Tenant, key.Corpus);
        using var reader = select.ExecuteReader();
        var result = new Dictionary<string, StoredArtifact>(StringComparer.Ordinal);
        while (reader.Read())
        {
            result[reader.GetString(0)] = new StoredArtifact(reader.GetInt64(1), reader.GetString(2), reader.GetString(3));
        }

        return result;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, (long Spans, long Tokens)> SpanTotals(string corpus)
    {
        var key = PostgresCorpusKeys.Parse(corpus);
        using var session = PgSession.Begin(_database.DataSource);
        var connection = session.Connection;
        using var select = PgSql.Command(connection, null, """
            SELECT d.path, count(s.id), COALESCE(sum(s.tokens), 0)
            FROM documents d LEFT JOIN spans s ON s.tenant = d.tenant AND s.corpus = d.corpus AND s.path = d.path
            WHERE d.tenant = $1 AND d.corpus = $2 GROUP BY d.path
            """, key.Tenant, key.Corpus);
        using var reader = select.ExecuteReader();
        var result = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        while (reader.Read())
        {
            result[reader.GetString(0)] = (reader.GetInt64(1), Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture));
        }

        return result;
    }

    /// <inheritdoc />
    public void Write(IReadOnlyList<(PreparedArtifact Artifact, StoredArtifact? Previous)> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            return;
        }

        var now = _clock.GetUtcNow();
        var corpora = batch.Select(p => p.Artifact.Corpus).Distinct(StringComparer.Ordinal).ToList();
        using var connection = _database.DataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        // The tenants' write locks first, in one order, so two batches cannot deadlock, and so an upload to the same
        // path cannot interleave with this batch.
        foreach (string tenant in corpora.Select(c => PostgresCorpusKeys.Parse(c).Tenant).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            PgSql.LockTenant(connection, transaction, tenant);
        }

        foreach (string corpus in corpora)
        {
            PostgresSpanWriter.EnsureCorpus(connection, transaction, corpus, now);
        }

        foreach (var (artifact, previous) in batch)
        {
            PostgresSpanWriter.Write(connection, transaction, artifact, previous, now);
        }

        transaction.Commit();
        _database.SpansChanged(batch.Sum(p => p.Artifact.Chunks.Count));
    }

    /// <inheritdoc />
    public int Delete(IReadOnlyList<long> artifactIds)
    {
        ArgumentNullException.ThrowIfNull(artifactIds);
        if (artifactIds.Count == 0)
        {
            return 0;
        }

        using var connection = _database.DataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        var tenants = new List<string>();
        using (var select = PgSql.Command(connection, transaction,
                   "SELECT DISTINCT tenant FROM documents WHERE id = ANY($1)", artifactIds.ToArray()))
        using (var reader = select.ExecuteReader())
        {
            while (reader.Read())
            {
                tenants.Add(reader.GetString(0));
            }
        }

        // In the order Write takes them, so a delete and a batch cannot deadlock.
        foreach (string tenant in tenants.Order(StringComparer.Ordinal))
        {
            PgSql.LockTenant(connection, transaction, tenant);
        }

        foreach (long id in artifactIds)
        {
            PostgresSpanWriter.Delete(connection, transaction, id);
        }

        transaction.Commit();
        _database.SpansChanged();
        return artifactIds.Count;
    }

    /// <inheritdoc />
    public VectorProgress VectorStatus()
    {
        using var session = PgSession.Begin(_database.DataSource);
        var connection = session.Connection;
        using var select = PgSql.Command(connection, null, "SELECT count(embedding), count(*) FROM spans");
        using var reader = select.ExecuteReader();
        reader.Read();
        return new VectorProgress(checked((int)reader.GetInt64(0)), checked((int)reader.GetInt64(1)));
    }

    /// <summary>
    /// Claims up to <paramref name="limit"/> spans without a vector, in id order after <paramref name="after"/>, that no
    /// other filler holds, leasing them to the caller for <see cref="ClaimLease"/>; returns them with their exact text.
    /// </summary>
    /// <remarks>
    /// The claim is one short statement: the rows are picked <c>FOR UPDATE SKIP LOCKED</c> (two replicas claiming at
    /// the same moment pass over each other's rows instead of waiting) and stamped with the lease's end, by the
    /// database's clock so that replicas' clocks need not agree. No transaction stays open while the caller embeds.
    /// Each span is thus handed to one filler, and embedded once, unless that filler dies (or overruns the lease): then
    /// the lease ends and another filler claims it. <see cref="WriteVectors"/> writes only where no vector is yet.
    /// Ordered by id, not tenant first, because the filler pages on with <paramref name="after"/> = the last id.
    /// </remarks>
    public IReadOnlyList<PendingSpan> SpansWithoutVectors(long after, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        using var session = PgSession.Begin(_database.DataSource);
        var connection = session.Connection;
        using var claim = PgSql.Command(connection, null, """
            UPDATE spans s SET claimed_until = now() + $3
            FROM (
                SELECT tenant, id FROM spans
                WHERE embedding IS NULL AND id > $1 AND (claimed_until IS NULL OR claimed_until < now())
                ORDER BY id LIMIT $2
                FOR UPDATE SKIP LOCKED
            ) AS free
            WHERE s.tenant = free.tenant AND s.id = free.id
            RETURNING s.id, s.heading, s.exact_text
            """, after, limit, ClaimLease);
        using var reader = claim.ExecuteReader();
        var spans = new List<PendingSpan>();
        while (reader.Read())
        {
            spans.Add(new PendingSpan(reader.GetInt64(0), PostgresText.Read(reader, 1)!, PostgresText.Read(reader, 2)!));
        }

        reader.Close();
        session.Commit();
        // RETURNING has no order of its own.
        spans.Sort((a, b) => a.Id.CompareTo(b.Id));
        return spans;
    }

    /// <inheritdoc />
    public int WriteVectors(IReadOnlyList<(long SpanId, ReadOnlyMemory<float> Vector)> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        if (vectors.Count == 0)
        {
            return 0;
        }

        using var connection = _database.DataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        // A span deleted (re-ingested) meanwhile matches no row; one another filler already filled is left as it is.
        using var update = PgSql.Command(connection, transaction,
            "UPDATE spans SET embedding = $2, claimed_until = NULL WHERE id = $1 AND embedding IS NULL", 0L, new Vector(new float[Dimensions]));
        int written = 0;
        foreach (var (spanId, vector) in vectors)
        {
            update.Parameters[0].Value = spanId;
            update.Parameters[1].Value = new Vector(vector);
            written += update.ExecuteNonQuery();
        }

        transaction.Commit();
        _database.SpansChanged();
        return written;
    }
}
