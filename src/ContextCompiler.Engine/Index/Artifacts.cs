using ContextCompiler.Core.Ingest;

namespace ContextCompiler.Engine.Index;

/// <summary>An artifact ready to be written: its identity, converted content and spans. Vectors follow in <see cref="VectorIndexer"/>.</summary>
public sealed record PreparedArtifact(
    string Corpus, string Path, SourceKind Kind, string ContentHash, string Chunking, string Content, long Bytes, IReadOnlyList<Chunk> Chunks);

/// <summary>What the index already holds for an artifact, enough to tell whether it changed.</summary>
public sealed record StoredArtifact(long Id, string ContentHash, string Chunking);
