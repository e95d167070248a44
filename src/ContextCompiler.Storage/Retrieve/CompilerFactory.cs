using ContextCompiler.Core.Compile;
using ContextCompiler.Storage.Assets;
using ContextCompiler.Storage.Index;
using Microsoft.Extensions.AI;

namespace ContextCompiler.Storage.Retrieve;

/// <summary>Wires the compiler to an index: in-memory BM25 (or FTS5) and the in-memory vector copy for retrieval, the index's model for query embeddings.</summary>
public static class CompilerFactory
{
    /// <summary>
    /// A compiler over <paramref name="store"/> embedding queries with <paramref name="queryEmbedder"/> (the index's own
    /// model), reading the in-memory copy from <paramref name="snapshots"/> (which writers can refresh), or a copy of its own.
    /// </summary>
    public static WorkingSetCompiler Create(
        IndexStore store, IEmbeddingGenerator<string, Embedding<float>> queryEmbedder, OfflineAssets assets, IndexSnapshotCache? snapshots = null)
    {
        snapshots ??= new IndexSnapshotCache(store);
        return new WorkingSetCompiler(
            [new InMemoryLexicalIndex(snapshots), new Fts5LexicalRetriever(store)],
            new InMemoryVectorIndex(snapshots),
            new SqliteSpanCatalog(store),
            queryEmbedder,
            assets.Tokenizer(),
            () =>
            {
                var snapshot = snapshots.Current();
                return store.Identity() with { Vectors = new VectorCoverage(snapshot.Keys.Length, snapshot.VectorCount) };
            },
            name => assets.Tokenizer(name));
    }
}
