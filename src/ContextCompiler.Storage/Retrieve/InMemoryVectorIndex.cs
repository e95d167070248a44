using ContextCompiler.Core.Embedding;
using ContextCompiler.Core.Retrieve;

namespace ContextCompiler.Storage.Retrieve;

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

        var best = new TopK(limit);
        bool filtered = filter.Corpus is not null || filter.PathPrefix is not null;
        var matrix = snapshot.Matrix.AsSpan();
        int dims = snapshot.Dimensions;
        for (int row = 0; row < snapshot.Keys.Length; row++)
        {
            // A span whose vector is not written yet is not a vector hit (lexical retrieval still finds it).
            if (!snapshot.HasVector[row] || (filtered && !filter.Accepts(snapshot.Keys[row].Corpus, snapshot.Keys[row].Path)))
            {
                continue;
            }

            best.Offer(VectorMath.Dot(query, matrix.Slice(row * dims, dims)), row, snapshot.Keys);
        }

        return best.Drain(snapshot.Keys);
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
