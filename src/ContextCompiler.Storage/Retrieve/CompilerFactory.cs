using ContextCompiler.Core.Compile;
using ContextCompiler.Storage.Assets;
using ContextCompiler.Storage.Index;

namespace ContextCompiler.Storage.Retrieve;

/// <summary>Wires the compiler to an index: in-memory BM25 (or FTS5) and the in-memory vector copy for retrieval, GloVe-SIF for query embeddings.</summary>
public static class CompilerFactory
{
    /// <summary>A compiler over <paramref name="store"/> using the offline assets' tokenizer and embedder.</summary>
    public static WorkingSetCompiler Create(IndexStore store, OfflineAssets assets, string tokenizer = "o200k_base")
    {
        var embedder = assets.Embedder;
        var snapshots = new IndexSnapshotCache(store);
        return new WorkingSetCompiler(
            [new InMemoryLexicalIndex(snapshots), new Fts5LexicalRetriever(store)],
            new InMemoryVectorIndex(snapshots),
            new SqliteSpanCatalog(store),
            text => embedder.Embed(text),
            assets.Tokenizer(tokenizer),
            store.Identity);
    }
}
