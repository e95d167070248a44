namespace ContextCompiler.Engine.Index;

/// <summary>
/// The write side of a span index with its vectors: the seam between ingestion and vector filling, which are the same
/// for every store, and a store's tables. Retrieval reads through Core's <c>ILexicalRetriever</c>,
/// <c>IVectorRetriever</c> and <c>ISpanCatalog</c>.
/// </summary>
public interface ISpanIndex
{
    /// <summary>The embedding model whose vectors the index holds.</summary>
    EmbeddingModel Model { get; }

    /// <summary>How many artifacts (files and documents) the index holds, in every corpus.</summary>
    int ArtifactCount();

    /// <summary>What is stored for each path of <paramref name="corpus"/>: its id, content hash and chunking.</summary>
    IReadOnlyDictionary<string, StoredArtifact> Artifacts(string corpus);

    /// <summary>Span and token totals per path of <paramref name="corpus"/>.</summary>
    IReadOnlyDictionary<string, (long Spans, long Tokens)> SpanTotals(string corpus);

    /// <summary>
    /// Writes a batch of artifacts with their spans in one transaction, each replacing its <c>Previous</c> version, and
    /// registers each operator corpus named (a name without '/') that is not registered yet.
    /// </summary>
    /// <exception cref="Corpora.CorpusNotFoundException">A tenant's corpus (a key with '/') that does not exist.</exception>
    void Write(IReadOnlyList<(PreparedArtifact Artifact, StoredArtifact? Previous)> batch);

    /// <summary>Deletes the artifacts <paramref name="artifactIds"/> with their spans and vectors, in one transaction; returns how many.</summary>
    int Delete(IReadOnlyList<long> artifactIds);

    /// <summary>How many spans have vectors, of all spans.</summary>
    VectorProgress VectorStatus();

    /// <summary>Up to <paramref name="limit"/> spans without a vector, in id order after <paramref name="after"/>.</summary>
    IReadOnlyList<PendingSpan> SpansWithoutVectors(long after, int limit);

    /// <summary>
    /// Stores each span's vector in one transaction, skipping spans deleted meanwhile and spans that already have one
    /// (another filler wrote it first); returns how many were written.
    /// </summary>
    int WriteVectors(IReadOnlyList<(long SpanId, ReadOnlyMemory<float> Vector)> vectors);
}

/// <summary>A span waiting for its vector: its id, heading trail and text.</summary>
public sealed record PendingSpan(long Id, string Heading, string Text);
