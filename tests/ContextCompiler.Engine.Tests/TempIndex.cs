using ContextCompiler.Core.Embedding;
using ContextCompiler.Engine.Assets;
using ContextCompiler.Engine.Embedding;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Ingest;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Engine.Tests;

/// <summary>A real SQLite index file (with vec0) and a source folder in a fresh temporary directory.</summary>
public sealed class TempIndex : IDisposable
{
    public TempIndex()
    {
        Root = Directory.CreateTempSubdirectory("contextc-test-").FullName;
        Sources = Directory.CreateDirectory(Path.Combine(Root, "docs")).FullName;
        DatabasePath = Path.Combine(Root, "index.db");
        Store = IndexStore.Open(DatabasePath, Assets.Vec0Path, Model);
    }

    public static OfflineAssets Assets => OfflineAssets.Default;

    /// <summary>Every embedding model, loaded once per test run (no persistent cache: each test embeds what it needs).</summary>
    public static EmbedderCatalog Embedders { get; } = new(Assets);

    public static EmbeddingModel Model => new(GloveSifEmbedder.ModelId, Assets.Embedder.Dimensions);

    public string Root { get; }

    public string Sources { get; }

    public string DatabasePath { get; }

    public IndexStore Store { get; }

    public CorpusIngestor Ingestor => new(Store, Assets.Tokenizer(), Assets.Embedder);

    public string Write(string relativePath, string content)
    {
        var path = Path.Combine(Sources, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    public string WriteBytes(string relativePath, byte[] content)
    {
        var path = Path.Combine(Sources, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    public Task<IngestReport> IngestAsync(IngestOptions? options = null) =>
        Ingestor.IngestAsync([Sources], options ?? new IngestOptions());

    public void Dispose()
    {
        Store.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; failing the test for it would hide the real result.
        }
    }
}
