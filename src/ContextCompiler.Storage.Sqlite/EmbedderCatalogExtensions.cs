using ContextCompiler.Engine.Embedding;
using ContextCompiler.Engine.Index;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>Opens SQLite index files with the catalog's models.</summary>
public static class EmbedderCatalogExtensions
{
    /// <summary>
    /// Opens (creating if needed) the index at <paramref name="path"/>: with <paramref name="modelId"/> when given (an index
    /// built with another model is an <see cref="EmbeddingModelMismatchException"/>), else with the model it was built with,
    /// else, for a new index, with <see cref="EmbedderCatalog.DefaultModel"/>. <paramref name="clock"/> stamps the rows
    /// written (default: the system clock).
    /// </summary>
    public static IndexStore Open(this EmbedderCatalog catalog, string path, string? modelId = null, TimeProvider? clock = null)
    {
        var model = modelId is not null ? catalog.Describe(modelId) : IndexStore.StoredModel(path) ?? catalog.Describe(EmbedderCatalog.DefaultModel);
        return IndexStore.Open(path, catalog.Assets.Vec0Path, model, clock);
    }
}
