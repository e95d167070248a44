using ContextCompiler.Core.Retrieve;
using ContextCompiler.Engine.Index;
using Microsoft.Data.Sqlite;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>
/// An in-memory copy of the index for fast retrieval: span keys, the vec0 embeddings as one contiguous matrix,
/// and a BM25 index of the spans' fields. SQLite (vec0 and FTS5) stays the persisted source of truth.
/// </summary>
public sealed class IndexSnapshot
{
    internal IndexSnapshot(long generation, int dimensions, VectorRowsBuilder vectors, Bm25Index lexical, string[] contentHashes, long textGeneration)
    {
        ContentHashes = contentHashes;
        TextGeneration = textGeneration;
        Generation = generation;
        Dimensions = dimensions;
        (Matrix, HasVector, Int8) = vectors.Build();
        VectorCount = HasVector.Count(h => h);
        Lexical = lexical;
    }

    /// <summary>The index write generation the copy reflects; -1 when a write raced the load.</summary>
    public long Generation { get; }

    public int Dimensions { get; }

    /// <summary>Row-major embeddings, one row per key (zeros for a span without a vector).</summary>
    public float[] Matrix { get; }

    /// <summary>Whether each row has its vector yet (vectors are filled in after the text is indexed).</summary>
    public bool[] HasVector { get; }

    /// <summary>The matrix's rows as int8 codes, for the vector search's first pass; rows without a vector are zeros.</summary>
    internal Int8Rows Int8 { get; }

    /// <summary>Rows with a vector.</summary>
    public int VectorCount { get; }

    /// <summary>Spans by row, in corpus, path and line order; the BM25 index and the matrix share these rows.</summary>
    public SpanKey[] Keys => Lexical.Keys;

    /// <summary>The row of each span id.</summary>
    public IReadOnlyDictionary<long, int> Rows => Lexical.RowOf;

    public Bm25Index Lexical { get; }

    /// <summary>The content hash of each row's document: with the span id, what says a row can be reused by the next load.</summary>
    internal string[] ContentHashes { get; }

    /// <summary>The text generation the rows reflect (-1 when a text write raced the load): while it stays, only vectors are new.</summary>
    internal long TextGeneration { get; }
}

/// <summary>
/// Hands out the current <see cref="IndexSnapshot"/>, reloading it when the index's write generation moves, so ingests
/// are seen by the next query without a restart. Shared by the in-memory retrievers.
/// </summary>
/// <remarks>
/// While one thread reloads, queries are answered from the copy they have instead of queueing behind the load: under a
/// stream of uploads they would otherwise wait for a reload after nearly every write. Writers that promise
/// read-your-writes (a document PUT or DELETE) call <see cref="Refresh"/> before they answer, so what they wrote is in
/// the copy by then. A compile <see cref="Pin"/>s one copy for all its retrieval.
/// </remarks>
public sealed class IndexSnapshotCache(IndexStore store)
{
    private readonly Lock _gate = new();
    private readonly AsyncLocal<IndexSnapshot?> _pinned = new();
    private IndexSnapshot? _snapshot;
    private volatile bool _loading;

    /// <summary>
    /// The snapshot for the index as it is now, or the newest one loaded while another thread loads a newer one; inside a
    /// <see cref="Pin"/>, the pinned one.
    /// </summary>
    public IndexSnapshot Current()
    {
        if (_pinned.Value is { } pinned)
        {
            return pinned;
        }

        long generation = Generation();
        var snapshot = _snapshot;
        if (snapshot is not null && (snapshot.Generation == generation || _loading))
        {
            return snapshot;
        }

        return Load(generation);
    }

    /// <summary>
    /// Makes <see cref="Current"/> return one snapshot until the scope is disposed, in this flow of execution (it follows
    /// awaits, and other requests are not affected): the lexical side, the vector side and the index identity of one
    /// compile then read one generation, asked of SQLite once instead of by each.
    /// </summary>
    public IDisposable Pin()
    {
        var outer = _pinned.Value;
        _pinned.Value = Current();
        return new Unpin(_pinned, outer);
    }

    /// <summary>The generation of the snapshot in memory, or null before the first load.</summary>
    public long? Loaded => _snapshot?.Generation;

    /// <summary>Waits until the snapshot holds every write committed so far, loading it if need be.</summary>
    public IndexSnapshot Refresh() => Load(Generation());

    private long Generation() => store.CurrentGeneration();

    private IndexSnapshot Load(long generation)
    {
        lock (_gate)
        {
            // Generations only grow; a copy loaded meanwhile by another caller may already be as new as asked for.
            if (_snapshot is null || _snapshot.Generation < generation)
            {
                _loading = true;
                try
                {
                    // Load what is committed now, not only what this caller asked for: writers that queued behind this
                    // lock then find their writes in the copy and need no load of their own.
                    using var lease = store.Rent();
                    _snapshot = Load(lease.Connection, IndexStore.Generation(lease.Connection), store.Model.Dimensions, _snapshot);
                }
                finally
                {
                    _loading = false;
                }
            }

            return _snapshot;
        }
    }

    // A span never changes under its id while its key (corpus, path, line) and its document's content hash stay the same
    // (SQLite may hand a deleted span's id to a new span, hence the key and the hash), so a reload after an upload or a batch of vectors reuses the previous copy's analysed
    // text and vectors for those, and reads from SQLite only what is new: the keys of every span, the text of new spans,
    // and the vectors written since. A full load took 0.6–1.8 s for the 9,181 spans
    // of the default corpus, paid by the first compile after every write.
    private static IndexSnapshot Load(SqliteConnection connection, long generation, int dims, IndexSnapshot? previous)
    {
        long textGeneration = IndexStore.TextGeneration(connection);
        if (previous is { TextGeneration: >= 0 } && previous.TextGeneration == textGeneration)
        {
            return WithNewVectors(connection, generation, previous);
        }

        var keys = new List<SpanKey>();
        var hashes = new List<string>();
        var corpora = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT s.id, a.corpus, a.path, s.start_line, a.content_hash, a.chunking
                FROM spans s JOIN artifacts a ON a.id = s.artifact_id
                ORDER BY a.corpus, a.path, s.start_line
                """;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var corpus = reader.GetString(1);
                corpus = corpora.TryGetValue(corpus, out var interned) ? interned : corpora[corpus] = corpus;
                keys.Add(new SpanKey(reader.GetInt64(0), corpus, reader.GetString(2), reader.GetInt32(3)));
                string hash = reader.GetString(4) + ";" + reader.GetString(5);
                // Consecutive rows share their document's hash; one string per document keeps the array small.
                hashes.Add(hashes.Count > 0 && hashes[^1] == hash ? hashes[^1] : hash);
            }
        }

        int Reusable(int row) =>
            previous is not null && previous.Rows.TryGetValue(keys[row].Id, out int old)
            && previous.Keys[old] == keys[row] && previous.ContentHashes[old] == hashes[row] ? old : -1;
        var reuse = Enumerable.Range(0, keys.Count).Select(Reusable).ToArray();
        var added = keys.Where((_, row) => reuse[row] < 0).ToList();
        var lexical = Bm25Index.Update(previous?.Lexical, [.. keys], Texts(connection, added, all: previous is null));

        var vectors = new VectorRowsBuilder(keys.Count, dims);
        var missing = new List<(int Row, long Id)>();
        for (int row = 0; row < keys.Count; row++)
        {
            if (reuse[row] is var old and >= 0 && previous!.HasVector[old])
            {
                vectors.Copy(previous, old, row);
            }
            else
            {
                missing.Add((row, keys[row].Id));
            }
        }

        foreach (var (row, blob) in Vectors(connection, missing))
        {
            vectors.Set(row, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(blob));
        }

        // A write that landed while reading leaves the copy marked stale, so the next query reloads it.
        long check = IndexStore.Generation(connection);
        long textCheck = IndexStore.TextGeneration(connection);
        return new IndexSnapshot(check == generation ? generation : -1, dims, vectors, lexical, [.. hashes],
            textCheck == textGeneration ? textGeneration : -1);
    }

    // Only vectors were written since the previous copy (the vector filler's batches): the spans, their text and the
    // BM25 index are the same objects; the rows that had no vector are looked up again.
    private static IndexSnapshot WithNewVectors(SqliteConnection connection, long generation, IndexSnapshot previous)
    {
        var vectors = VectorRowsBuilder.CopyOf(previous);
        var missing = new List<(int Row, long Id)>();
        for (int row = 0; row < previous.HasVector.Length; row++)
        {
            if (!vectors.HasVector(row))
            {
                missing.Add((row, previous.Keys[row].Id));
            }
        }

        foreach (var (row, blob) in Vectors(connection, missing))
        {
            vectors.Set(row, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(blob));
        }

        long check = IndexStore.Generation(connection);
        return new IndexSnapshot(check == generation ? generation : -1, previous.Dimensions, vectors, previous.Lexical, previous.ContentHashes,
            IndexStore.TextGeneration(connection) == previous.TextGeneration ? previous.TextGeneration : -1);
    }

    // The fields of the given spans (all spans when the copy is loaded the first time: one scan beats many lookups).
    private static List<Bm25Document> Texts(SqliteConnection connection, List<SpanKey> spans, bool all)
    {
        var documents = new List<Bm25Document>(spans.Count);
        if (spans.Count == 0)
        {
            return documents;
        }

        var byId = spans.ToDictionary(k => k.Id);
        using var command = connection.CreateCommand();
        command.CommandText = all
            ? "SELECT id, heading, text FROM spans"
            : "SELECT id, heading, text FROM spans WHERE id IN (SELECT value FROM json_each($ids))";
        if (!all)
        {
            command.Parameters.AddWithValue("$ids", System.Text.Json.JsonSerializer.Serialize(byId.Keys));
        }

        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (byId.TryGetValue(reader.GetInt64(0), out var key))
            {
                documents.Add(new Bm25Document(key, key.Path.Replace('/', ' '), reader.GetString(1), reader.GetString(2)));
            }
        }

        return documents;
    }

    // The vectors of the given rows that have one: looked up one by one when few are missing (vec0 finds a rowid
    // directly), read in one scan when many are (the first load, or while vectors fill in).
    private static IEnumerable<(int Row, byte[] Blob)> Vectors(SqliteConnection connection, List<(int Row, long Id)> missing)
    {
        if (missing.Count == 0)
        {
            yield break;
        }

        if (missing.Count > 256)
        {
            var all = IndexReader.Vectors(connection);
            foreach (var (row, id) in missing)
            {
                if (all.TryGetValue(id, out var blob))
                {
                    yield return (row, blob);
                }
            }

            yield break;
        }

        using var command = connection.CreateCommand();
        command.CommandText = "SELECT embedding FROM span_vectors WHERE rowid = $id";
        var parameter = command.Parameters.Add("$id", SqliteType.Integer);
        foreach (var (row, id) in missing)
        {
            parameter.Value = id;
            if (command.ExecuteScalar() is byte[] blob)
            {
                yield return (row, blob);
            }
        }
    }

    // Restores what was pinned before (nothing, unless pins nest).
    private sealed class Unpin(AsyncLocal<IndexSnapshot?> pinned, IndexSnapshot? outer) : IDisposable
    {
        public void Dispose() => pinned.Value = outer;
    }
}
