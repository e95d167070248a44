namespace ContextCompiler.Storage.Index;

/// <summary>The identity of the embedder an index was built with; an index only accepts its own model.</summary>
public sealed record EmbeddingModel(string Id, int Dimensions);

/// <summary>Thrown when an index is opened with a different embedding model than the one it was built with.</summary>
public sealed class EmbeddingModelMismatchException(EmbeddingModel stored, EmbeddingModel requested, string path)
    : InvalidOperationException(
        $"The index at {path} was built with embedding model '{stored.Id}' ({stored.Dimensions} dimensions), " +
        $"but '{requested.Id}' ({requested.Dimensions} dimensions) was requested. Move it to the other model with `contextc reembed --model {requested.Id}`, or re-ingest into a new database file.")
{
    public EmbeddingModel Stored { get; } = stored;

    public EmbeddingModel Requested { get; } = requested;
}
