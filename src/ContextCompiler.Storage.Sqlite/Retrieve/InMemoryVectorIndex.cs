using ContextCompiler.Core.Embedding;
using ContextCompiler.Core.Retrieve;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>
/// Exact cosine KNN over the snapshot's contiguous copy of the vec0 table. vec0 stays the persisted index;
/// a SIMD scan of the copy was about ten times faster than vec0's own brute-force scan here (benchmarks/RESULTS.md).
/// </summary>
public sealed class InMemoryVectorIndex(IndexSnapshotCache snapshots) : IVectorRetriever
{
    /// <inheritdoc />
    public IReadOnlyList<RankedSpan> Search(ReadOnlySpan<float> query, RetrievalFilter filter, int limit)
    {
        var snapshot = snapshots.Current();
        if (limit <= 0 || snapshot.Keys.Length == 0 || query.Length != snapshot.Dimensions)
        {
            return [];
        }

        int rows = snapshot.Keys.Length;
        int parts = rows >= ParallelScanRows ? Math.Min(Environment.ProcessorCount, 8) : 1;
        if (parts <= 1)
        {
            return Scan(snapshot, query, filter, limit, 0, rows).Drain(snapshot.Keys);
        }

        // A large index is scanned in ranges on every core, each keeping its own best rows, merged at the end; ties
        // break by span key in TopK, so the result is the same as one scan's.
        var vector = query.ToArray();
        var partial = new TopK[parts];
        Parallel.For(0, parts, p => partial[p] = Scan(snapshot, vector, filter, limit, (int)((long)rows * p / parts), (int)((long)rows * (p + 1) / parts)));
        var best = partial[0];
        for (int p = 1; p < parts; p++)
        {
            best.Merge(partial[p], snapshot.Keys);
        }

        return best.Drain(snapshot.Keys);
    }

    // Below this many rows one scan is faster than starting threads (measured with 384-dimension vectors).
    private const int ParallelScanRows = 20_000;

    private static TopK Scan(IndexSnapshot snapshot, ReadOnlySpan<float> query, RetrievalFilter filter, int limit, int from, int to)
    {
        var best = new TopK(limit);
        bool filtered = !filter.IsEmpty;
        var matrix = snapshot.Matrix.AsSpan();
        int dims = snapshot.Dimensions;
        for (int row = from; row < to; row++)
        {
            // A span whose vector is not written yet is not a vector hit (lexical retrieval still finds it).
            if (!snapshot.HasVector[row] || (filtered && !filter.Accepts(snapshot.Keys[row].Corpus, snapshot.Keys[row].Path)))
            {
                continue;
            }

            best.Offer(VectorMath.Dot(query, matrix.Slice(row * dims, dims)), row, snapshot.Keys);
        }

        return best;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<long, float[]> VectorsOf(IReadOnlyCollection<long> spanIds)
    {
        // One snapshot for the whole batch: each Current() call asks SQLite for the write generation.
        var snapshot = snapshots.Current();
        var vectors = new Dictionary<long, float[]>(spanIds.Count);
        foreach (long id in spanIds)
        {
            if (snapshot.Rows.TryGetValue(id, out int row) && snapshot.HasVector[row])
            {
                vectors[id] = snapshot.Matrix.AsSpan(row * snapshot.Dimensions, snapshot.Dimensions).ToArray();
            }
        }

        return vectors;
    }
}
