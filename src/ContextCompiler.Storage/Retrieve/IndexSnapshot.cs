using ContextCompiler.Core.Retrieve;
using ContextCompiler.Storage.Index;
using Microsoft.Data.Sqlite;

namespace ContextCompiler.Storage.Retrieve;

/// <summary>
/// An in-memory copy of the index for fast retrieval: span keys, the vec0 embeddings as one contiguous matrix,
/// and a BM25 index of the spans' fields. SQLite (vec0 and FTS5) stays the persisted source of truth.
/// </summary>
public sealed class IndexSnapshot
{
    internal IndexSnapshot(long generation, int dimensions, float[] matrix, bool[] hasVector, Bm25Index lexical)
    {
        Generation = generation;
        Dimensions = dimensions;
        Matrix = matrix;
        HasVector = hasVector;
        VectorCount = hasVector.Count(h => h);
        Lexical = lexical;
    }

    /// <summary>The index write generation the copy reflects; -1 when a write raced the load.</summary>
    public long Generation { get; }

    public int Dimensions { get; }

    /// <summary>Row-major embeddings, one row per key (zeros for a span without a vector).</summary>
    public float[] Matrix { get; }

    /// <summary>Whether each row has its vector yet (vectors are filled in after the text is indexed).</summary>
    public bool[] HasVector { get; }

    /// <summary>Rows with a vector.</summary>
    public int VectorCount { get; }

    /// <summary>Spans by row, in corpus, path and line order; the BM25 index and the matrix share these rows.</summary>
    public SpanKey[] Keys => Lexical.Keys;

    /// <summary>The row of each span id.</summary>
    public IReadOnlyDictionary<long, int> Rows => Lexical.RowOf;

    public Bm25Index Lexical { get; }
}

/// <summary>
/// Hands out the current <see cref="IndexSnapshot"/>, reloading it when the index's write generation moves,
/// so ingests are seen by the next query without a restart. Shared by the in-memory retrievers.
/// </summary>
public sealed class IndexSnapshotCache(IndexStore store)
{
    private readonly Lock _gate = new();
    private IndexSnapshot? _snapshot;

    /// <summary>The snapshot for the index as it is now.</summary>
    public IndexSnapshot Current()
    {
        long generation;
        using (var lease = store.Rent())
        {
            generation = IndexStore.Generation(lease.Connection);
        }

        var snapshot = _snapshot;
        if (snapshot is not null && snapshot.Generation == generation)
        {
            return snapshot;
        }

        lock (_gate)
        {
            if (_snapshot is null || _snapshot.Generation != generation)
            {
                using var lease = store.Rent();
                _snapshot = Load(lease.Connection, generation, store.Model.Dimensions);
            }

            return _snapshot;
        }
    }

    private static IndexSnapshot Load(SqliteConnection connection, long generation, int dims)
    {
        var vectors = IndexReader.Vectors(connection);

        var keys = new List<SpanKey>();
        var documents = new List<Bm25Document>();
        var corpora = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT s.id, a.corpus, a.path, s.start_line, s.heading, s.text
                FROM spans s JOIN artifacts a ON a.id = s.artifact_id
                ORDER BY a.corpus, a.path, s.start_line
                """;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var corpus = reader.GetString(1);
                corpus = corpora.TryGetValue(corpus, out var interned) ? interned : corpora[corpus] = corpus;
                var key = new SpanKey(reader.GetInt64(0), corpus, reader.GetString(2), reader.GetInt32(3));
                keys.Add(key);
                documents.Add(new Bm25Document(key, key.Path.Replace('/', ' '), reader.GetString(4), reader.GetString(5)));
            }
        }

        var matrix = new float[keys.Count * dims];
        var hasVector = new bool[keys.Count];
        for (int row = 0; row < keys.Count; row++)
        {
            if (vectors.TryGetValue(keys[row].Id, out var blob))
            {
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(blob).CopyTo(matrix.AsSpan(row * dims, dims));
                hasVector[row] = true;
            }
        }

        // A write that landed while reading leaves the copy marked stale, so the next query reloads it.
        long check = IndexStore.Generation(connection);
        return new IndexSnapshot(check == generation ? generation : -1, dims, matrix, hasVector, Bm25Index.Build(documents));
    }
}
