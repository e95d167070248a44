using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using ContextCompiler.Engine.Index;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>The SQLite <see cref="ISpanIndex"/>: artifacts and spans with FTS5 rows, vectors in the vec0 table.</summary>
public sealed partial class IndexStore : ISpanIndex, IStoreStatus
{
    /// <inheritdoc />
    string IStoreStatus.Provider => "sqlite";

    /// <inheritdoc />
    string IStoreStatus.Location => Path;

    /// <inheritdoc />
    public int ArtifactCount()
    {
        using var lease = Rent();
        return Convert.ToInt32(Scalar(lease.Connection, "SELECT COUNT(*) FROM artifacts"), CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    IReadOnlyDictionary<string, StoredArtifact> ISpanIndex.Artifacts(string corpus) => new IndexReader(this).Artifacts(corpus);

    /// <inheritdoc />
    IReadOnlyDictionary<string, (long Spans, long Tokens)> ISpanIndex.SpanTotals(string corpus) => new IndexReader(this).SpanTotals(corpus);

    /// <inheritdoc />
    public void Write(IReadOnlyList<(PreparedArtifact Artifact, StoredArtifact? Previous)> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }

        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction();
        var now = Clock.GetUtcNow();
        foreach (var corpus in batch.Select(p => p.Artifact.Corpus).Distinct(StringComparer.Ordinal))
        {
            CorpusStore.EnsureOperatorCorpus(connection, transaction, corpus, now);
        }

        using (var writer = new SpanIndexWriter(connection, transaction, Clock))
        {
            foreach (var (artifact, previous) in batch)
            {
                writer.Write(artifact, previous);
            }
        }

        BumpGeneration(connection, transaction, spansChanged: true);
        transaction.Commit();
    }

    /// <inheritdoc />
    public int Delete(IReadOnlyList<long> artifactIds)
    {
        if (artifactIds.Count == 0)
        {
            return 0;
        }

        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction();
        using (var writer = new SpanIndexWriter(connection, transaction, Clock))
        {
            foreach (var id in artifactIds)
            {
                writer.Delete(id);
            }
        }

        BumpGeneration(connection, transaction, spansChanged: true);
        transaction.Commit();
        return artifactIds.Count;
    }

    /// <inheritdoc />
    public VectorProgress VectorStatus()
    {
        using var lease = Rent();
        return new(Convert.ToInt32(Scalar(lease.Connection, "SELECT COUNT(*) FROM span_vectors"), CultureInfo.InvariantCulture),
            Convert.ToInt32(Scalar(lease.Connection, "SELECT COUNT(*) FROM spans"), CultureInfo.InvariantCulture));
    }

    /// <inheritdoc />
    public IReadOnlyList<PendingSpan> SpansWithoutVectors(long after, int limit)
    {
        using var lease = Rent();
        using var command = Sql.Command(lease.Connection, null, """
            SELECT s.id, s.heading, s.text FROM spans s
            WHERE s.id > $after AND NOT EXISTS (SELECT 1 FROM span_vectors v WHERE v.rowid = s.id)
            ORDER BY s.id LIMIT $limit
            """, ("$after", after), ("$limit", limit));
        using var reader = command.ExecuteReader();
        var rows = new List<PendingSpan>();
        while (reader.Read())
        {
            rows.Add(new PendingSpan(reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
        }

        return rows;
    }

    /// <inheritdoc />
    public int WriteVectors(IReadOnlyList<(long SpanId, ReadOnlyMemory<float> Vector)> vectors)
    {
        using var lease = Rent();
        using var transaction = lease.Connection.BeginTransaction();
        using var insert = lease.Connection.CreateCommand();
        insert.Transaction = transaction;
        // A span deleted (re-ingested) while it was being embedded is skipped: its vector would have no span.
        insert.CommandText = """
            INSERT INTO span_vectors (rowid, embedding)
            SELECT $id, $embedding WHERE EXISTS (SELECT 1 FROM spans WHERE id = $id)
              AND NOT EXISTS (SELECT 1 FROM span_vectors WHERE rowid = $id)
            """;
        var id = insert.Parameters.Add("$id", SqliteType.Integer);
        var embedding = insert.Parameters.Add("$embedding", SqliteType.Blob);
        int written = 0;
        foreach (var (spanId, vector) in vectors)
        {
            id.Value = spanId;
            embedding.Value = MemoryMarshal.AsBytes(vector.Span).ToArray();
            written += insert.ExecuteNonQuery();
        }

        BumpGeneration(lease.Connection, transaction, spansChanged: false);
        transaction.Commit();
        return written;
    }
}
