using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.AI;

namespace ContextCompiler.Storage.Index;

/// <summary>Spans with vectors out of all spans.</summary>
public sealed record VectorProgress(int Done, int Total)
{
    /// <summary>True when every span has its vector.</summary>
    public bool Complete => Done >= Total;

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Done}/{Total}");
}

/// <summary>What one fill did.</summary>
public sealed record VectorFillReport(int Embedded, int Total, long ElapsedMs);

/// <summary>
/// The vector stage of indexing: embeds every span that has no vector yet and writes it to vec0, a batch per
/// transaction, each batch bumping the write generation so that retrieval picks the vectors up as they come. Text
/// is indexed before this runs, so lexical retrieval serves while vectors fill in.
/// </summary>
public sealed class VectorIndexer(IndexStore store, IEmbeddingGenerator<string, Embedding<float>> embedder)
{
    /// <summary>Spans embedded and written per transaction.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>How many spans have vectors now.</summary>
    public VectorProgress Status()
    {
        using var lease = store.Rent();
        return Count(lease.Connection);
    }

    /// <summary>Fills every missing vector, reporting progress after each batch.</summary>
    public async Task<VectorFillReport> FillAsync(IProgress<VectorProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        // An embedder may finish synchronously (the ONNX models compute on the calling thread): without this the whole
        // fill would run on the caller's thread before it gets its task back.
        await Task.Yield();
        var clock = Stopwatch.StartNew();
        int embedded = 0;
        using var connection = store.OpenConnection();
        var status = Count(connection);
        progress?.Report(status);
        long after = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var pending = Missing(connection, after);
            if (pending.Count == 0)
            {
                break;
            }

            after = pending[^1].Id;
            // The heading trail gives a section's spans the words of its title, which the body often omits.
            var inputs = pending.Select(p => p.Heading.Length == 0 ? p.Text : p.Heading + "\n" + p.Text).ToList();
            var vectors = await embedder.GenerateAsync(inputs, cancellationToken: cancellationToken);
            if (vectors.Count != pending.Count || vectors.Any(v => v.Vector.Length != store.Model.Dimensions))
            {
                throw new InvalidOperationException(
                    $"The embedder returned {vectors.Count} vectors for {pending.Count} spans, or not of {store.Model.Dimensions} dimensions ({store.Model.Id}).");
            }

            embedded += Write(connection, pending, vectors);
            status = Count(connection);
            progress?.Report(status);
        }

        return new VectorFillReport(embedded, status.Total, clock.ElapsedMilliseconds);
    }

    private List<(long Id, string Heading, string Text)> Missing(SqliteConnection connection, long after)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT s.id, s.heading, s.text FROM spans s
            WHERE s.id > $after AND NOT EXISTS (SELECT 1 FROM span_vectors v WHERE v.rowid = s.id)
            ORDER BY s.id LIMIT $limit
            """;
        command.Parameters.AddWithValue("$after", after);
        command.Parameters.AddWithValue("$limit", BatchSize);
        using var reader = command.ExecuteReader();
        var rows = new List<(long, string, string)>();
        while (reader.Read())
        {
            rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
        }

        return rows;
    }

    // A span deleted (re-ingested) while it was being embedded is skipped: its vector would have no span.
    private static int Write(SqliteConnection connection, List<(long Id, string Heading, string Text)> pending, GeneratedEmbeddings<Embedding<float>> vectors)
    {
        using var transaction = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO span_vectors (rowid, embedding)
            SELECT $id, $embedding WHERE EXISTS (SELECT 1 FROM spans WHERE id = $id)
              AND NOT EXISTS (SELECT 1 FROM span_vectors WHERE rowid = $id)
            """;
        var id = insert.Parameters.Add("$id", SqliteType.Integer);
        var embedding = insert.Parameters.Add("$embedding", SqliteType.Blob);
        int written = 0;
        for (int i = 0; i < pending.Count; i++)
        {
            id.Value = pending[i].Id;
            embedding.Value = MemoryMarshal.AsBytes(vectors[i].Vector.Span).ToArray();
            written += insert.ExecuteNonQuery();
        }

        IndexStore.BumpGeneration(connection, transaction, spansChanged: false);
        transaction.Commit();
        return written;
    }

    private static VectorProgress Count(SqliteConnection connection) =>
        new(Convert.ToInt32(IndexStore.Scalar(connection, "SELECT COUNT(*) FROM span_vectors"), CultureInfo.InvariantCulture),
            Convert.ToInt32(IndexStore.Scalar(connection, "SELECT COUNT(*) FROM spans"), CultureInfo.InvariantCulture));
}
