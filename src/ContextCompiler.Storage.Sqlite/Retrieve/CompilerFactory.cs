using ContextCompiler.Core.Compile;
using ContextCompiler.Engine.Assets;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Stores;
using Microsoft.Extensions.AI;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>A compiler straight over a SQLite index, without the engine: for benchmarks and tests that open an index themselves.</summary>
public static class CompilerFactory
{
    /// <summary>
    /// A compiler over <paramref name="store"/> embedding queries with <paramref name="queryEmbedder"/> (the index's own
    /// model), reading the in-memory copy from <paramref name="snapshots"/> (which writers can refresh), or a copy of its own.
    /// </summary>
    public static WorkingSetCompiler Create(
        IndexStore store, IEmbeddingGenerator<string, Embedding<float>> queryEmbedder, OfflineAssets assets, IndexSnapshotCache? snapshots = null) =>
        SqliteStore.RetrievalOf(store, snapshots ?? new IndexSnapshotCache(store)).Compiler(queryEmbedder, assets);
}
