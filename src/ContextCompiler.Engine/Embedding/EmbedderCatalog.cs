using ContextCompiler.Core.Embedding;
using ContextCompiler.Core.Telemetry;
using ContextCompiler.Embeddings;
using ContextCompiler.Engine.Assets;
using ContextCompiler.Engine.Index;
using Microsoft.Extensions.AI;

namespace ContextCompiler.Engine.Embedding;

/// <summary>
/// The two faces of one embedding model: <see cref="Passages"/> for span text (behind the persistent cache when one is
/// configured) and <see cref="Queries"/> for retrieval queries (with the model's query prefix, behind an in-memory cache).
/// </summary>
public sealed record IndexEmbedder(EmbeddingModel Model, IEmbeddingGenerator<string, Embedding<float>> Passages, IEmbeddingGenerator<string, Embedding<float>> Queries);

/// <summary>
/// Every embedding model the service can build an index with, by the id recorded in the index: the packaged neural
/// models (run with ONNX Runtime) and GloVe-SIF (small and fast, from the offline assets). A model is loaded once,
/// when first asked for.
/// </summary>
public sealed class EmbedderCatalog(OfflineAssets assets, string? cachePath = null) : IDisposable
{
    /// <summary>The model of new indexes: chosen on SciFact train and the SQLite-docs dev questions (benchmarks/RESULTS.md).</summary>
    public const string DefaultModel = "all-MiniLM-L6-v2";

    private readonly Dictionary<string, IndexEmbedder> _loaded = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<IDisposable> _owned = [];
    private readonly Lock _gate = new();

    /// <summary>The ids of every model this catalog can load.</summary>
    public static IReadOnlyList<string> Known { get; } = [.. SentenceModel.All.Select(m => m.Id), GloveSifEmbedder.ModelId];

    /// <summary>The identity (id and dimensions) of <paramref name="modelId"/> without loading it.</summary>
    /// <exception cref="ArgumentException">An unknown model id.</exception>
    public EmbeddingModel Describe(string modelId)
    {
        if (string.Equals(modelId, GloveSifEmbedder.ModelId, StringComparison.OrdinalIgnoreCase))
        {
            return new EmbeddingModel(GloveSifEmbedder.ModelId, assets.Embedder.Dimensions);
        }

        var model = SentenceModel.Named(modelId);
        return new EmbeddingModel(model.Id, model.Dimensions);
    }

    /// <summary>The offline assets the models and the stores' extensions (sqlite-vec) come from.</summary>
    public OfflineAssets Assets => assets;

    /// <summary>The embedders of <paramref name="modelId"/>, loading the model on first use.</summary>
    /// <exception cref="ArgumentException">An unknown model id.</exception>
    public IndexEmbedder For(string modelId)
    {
        lock (_gate)
        {
            if (_loaded.TryGetValue(modelId, out var ready))
            {
                return ready;
            }

            var embedder = Load(modelId);
            _loaded[modelId] = embedder;
            return embedder;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }

    private IndexEmbedder Load(string modelId)
    {
        var identity = Describe(modelId);
        if (identity.Id == GloveSifEmbedder.ModelId)
        {
            // GloVe-SIF is a table look-up: caching it would cost more than it saves.
            var glove = new TelemetryEmbeddingGenerator(assets.Embedder, identity.Id);
            return new IndexEmbedder(identity, glove, glove);
        }

        var model = SentenceModel.Named(identity.Id);
        var onnx = new OnnxSentenceEmbedder(model);
        _owned.Add(onnx);
        // Telemetry sits beneath the caches: only real model runs become embedding spans and throughput figures.
        var measured = new TelemetryEmbeddingGenerator(onnx, model.Id);
        IEmbeddingGenerator<string, Embedding<float>> passages = measured;
        if (cachePath is not null)
        {
            var cache = new PersistentEmbeddingCache(measured, model.Id, cachePath);
            _owned.Add(cache);
            passages = cache;
        }

        // Concurrent turns' queries share model runs (beneath the cache, so only misses are batched).
        var queries = new MemoryEmbeddingCache(new QueryPrefixEmbeddingGenerator(new BatchingEmbeddingGenerator(measured), model.QueryPrefix));
        return new IndexEmbedder(identity, passages, queries);
    }
}
