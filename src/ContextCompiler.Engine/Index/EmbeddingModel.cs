using ContextCompiler.Core.Errors;

namespace ContextCompiler.Engine.Index;

/// <summary>The identity of the embedder an index was built with; an index only accepts its own model.</summary>
public sealed record EmbeddingModel(string Id, int Dimensions);

/// <summary>
/// Thrown when an index is opened with a different embedding model than the one it was built with: the request
/// conflicts with the index as stored, and the message says how to move it to the other model.
/// </summary>
public sealed class EmbeddingModelMismatchException(EmbeddingModel stored, EmbeddingModel requested, string path)
    : ConflictError(
        $"The index at {path} was built with embedding model '{stored.Id}' ({stored.Dimensions} dimensions), " +
        $"but '{requested.Id}' ({requested.Dimensions} dimensions) was requested. Move it to the other model with `contextc reembed --model {requested.Id}`, or re-ingest into a new database file.");
