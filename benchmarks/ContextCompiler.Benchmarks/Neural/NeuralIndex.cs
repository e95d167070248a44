using ContextCompiler.Embeddings;
using ContextCompiler.Engine.Assets;
using ContextCompiler.Engine.Index;
using ContextCompiler.Storage.Sqlite;
using Microsoft.Extensions.AI;

namespace ContextCompiler.Benchmarks.Neural;

/// <summary>
/// What the neural benchmarks start from: an index built with a packaged model, opened; that model's query embedder
/// (ONNX, with the model's query prefix, no cache); and the dev questions. Disposing closes the index and the model.
/// </summary>
internal sealed class NeuralIndex : IDisposable
{
    private readonly OnnxSentenceEmbedder _onnx;

    private NeuralIndex(OfflineAssets assets, EmbeddingModel model, string[] questions, OnnxSentenceEmbedder onnx, IndexStore real)
    {
        (Assets, Model, Questions, _onnx, Real) = (assets, model, questions, onnx, real);
        Queries = new QueryPrefixEmbeddingGenerator(onnx, onnx.Model.QueryPrefix);
    }

    public OfflineAssets Assets { get; }

    /// <summary>The index's model.</summary>
    public EmbeddingModel Model { get; }

    /// <summary>The SQLite-docs dev questions.</summary>
    public string[] Questions { get; }

    /// <summary>Query embeddings as the compiler makes them, uncached.</summary>
    public IEmbeddingGenerator<string, Embedding<float>> Queries { get; }

    /// <summary>The index itself.</summary>
    public IndexStore Real { get; }

    /// <summary>Opens the index <paramref name="db"/> (which must have been built with a packaged model).</summary>
    public static NeuralIndex Open(string db)
    {
        var assets = OfflineAssets.Default;
        var model = IndexStore.StoredModel(db) ?? throw new ArgumentException($"{db} holds no index.");
        string root = RepositoryLayout.Root() ?? throw new InvalidOperationException("Run inside the repository.");
        var onnx = new OnnxSentenceEmbedder(SentenceModel.Named(model.Id));
        return new NeuralIndex(assets, model, QuestionSets.Read(root), onnx, IndexStore.Open(db, assets.Vec0Path, model));
    }

    public void Dispose()
    {
        Real.Dispose();
        _onnx.Dispose();
    }
}
