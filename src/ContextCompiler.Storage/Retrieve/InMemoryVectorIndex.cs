using ContextCompiler.Core.Embedding;
using ContextCompiler.Core.Retrieve;
using ContextCompiler.Storage.Index;

namespace ContextCompiler.Storage.Retrieve;

/// <summary>
/// Exact cosine KNN over a contiguous in-memory copy of the vec0 table. vec0 stays the persisted index and the
/// source of truth; this copy is loaded from it and reloaded whenever the index's write generation moves.
/// A SIMD scan of the copy was about ten times faster than vec0's own brute-force scan here (see benchmarks/RESULTS.md).
/// </summary>
public sealed class InMemoryVectorIndex(IndexStore store) : IVectorRetriever
{
    private readonly Lock _gate = new();
    private Snapshot? _snapshot;

    /// <summary>Number of vectors in the current copy (loading it if needed).</summary>
    public int Count => Current().Keys.Length;

    /// <inheritdoc />
    public IReadOnlyList<RankedSpan> Search(ReadOnlySpan<float> query, RetrievalFilter filter, int limit)
    {
        var snapshot = Current();
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
            if (filtered && !filter.Accepts(snapshot.Keys[row].Corpus, snapshot.Keys[row].Path))
            {
                continue;
            }

            float score = VectorMath.Dot(query, matrix.Slice(row * dims, dims));
            best.Offer(score, row, snapshot.Keys);
        }

        return best.Drain(snapshot.Keys);
    }

    /// <inheritdoc />
    public float[]? VectorOf(long spanId)
    {
        var snapshot = Current();
        return snapshot.Rows.TryGetValue(spanId, out int row)
            ? snapshot.Matrix.AsSpan(row * snapshot.Dimensions, snapshot.Dimensions).ToArray()
            : null;
    }

    private Snapshot Current()
    {
        using var lease = store.Rent();
        long generation = IndexStore.Generation(lease.Connection);
        var snapshot = _snapshot;
        if (snapshot is not null && snapshot.Generation == generation)
        {
            return snapshot;
        }

        lock (_gate)
        {
            if (_snapshot is null || _snapshot.Generation != generation)
            {
                _snapshot = Load(lease.Connection, generation, store.Model.Dimensions);
            }

            return _snapshot;
        }
    }

    private static Snapshot Load(Microsoft.Data.Sqlite.SqliteConnection connection, long generation, int dims)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT v.rowid, v.embedding, a.corpus, a.path, s.start_line
            FROM span_vectors v JOIN spans s ON s.id = v.rowid JOIN artifacts a ON a.id = s.artifact_id
            ORDER BY a.corpus, a.path, s.start_line
            """;
        var keys = new List<SpanKey>();
        var matrix = new List<float>();
        var corpora = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var corpus = reader.GetString(2);
                corpus = corpora.TryGetValue(corpus, out var interned) ? interned : corpora[corpus] = corpus;
                keys.Add(new SpanKey(reader.GetInt64(0), corpus, reader.GetString(3), reader.GetInt32(4)));
                var blob = (byte[])reader.GetValue(1);
                matrix.AddRange(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(blob).ToArray());
            }
        }

        // A write that landed while reading leaves the copy marked stale, so the next search reloads it.
        long check = IndexStore.Generation(connection);
        var keyArray = keys.ToArray();
        return new Snapshot(check == generation ? generation : -1, dims, matrix.ToArray(), keyArray,
            keyArray.Select((k, i) => (k.Id, i)).ToDictionary(x => x.Id, x => x.i));
    }

    private sealed record Snapshot(long Generation, int Dimensions, float[] Matrix, SpanKey[] Keys, Dictionary<long, int> Rows);

    /// <summary>The k best rows by score, ties broken by citation order, without sorting everything.</summary>
    private sealed class TopK(int capacity)
    {
        private readonly List<(float Score, int Row)> _items = new(capacity + 1);

        public void Offer(float score, int row, SpanKey[] keys)
        {
            if (_items.Count == capacity && !Better(score, row, _items[^1], keys))
            {
                return;
            }

            int at = _items.Count;
            while (at > 0 && Better(score, row, _items[at - 1], keys))
            {
                at--;
            }

            _items.Insert(at, (score, row));
            if (_items.Count > capacity)
            {
                _items.RemoveAt(_items.Count - 1);
            }
        }

        public List<RankedSpan> Drain(SpanKey[] keys) => _items.Select(i => new RankedSpan(keys[i.Row], i.Score)).ToList();

        private static bool Better(float score, int row, (float Score, int Row) other, SpanKey[] keys) =>
            score > other.Score || (score == other.Score && keys[row].CompareTo(keys[other.Row]) < 0);
    }
}
