using ContextCompiler.Core.Ingest;
using ContextCompiler.Engine.Index;

namespace ContextCompiler.Engine.Ingest;

/// <summary>Settings of one ingest run. Defaults suit documentation corpora.</summary>
public sealed record IngestOptions
{
    /// <summary>Corpus name for every root; by default each root folder's own name.</summary>
    public string? Corpus { get; init; }

    /// <summary>Remove stored artifacts of the ingested corpora whose files are gone.</summary>
    public bool Prune { get; init; }

    /// <summary>Files larger than this are skipped (default 4 MiB).</summary>
    public long MaxFileBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Files written per transaction (default 64).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>How artifacts are cut into spans.</summary>
    public ChunkingOptions Chunking { get; init; } = new();
}

/// <summary>A document given as text rather than read from a file: its artifact path, its content and how it is structured.</summary>
public sealed record SourceDocument(string Path, string Content, SourceKind Kind);

/// <summary>A file that was not ingested, and why.</summary>
public sealed record SkippedFile(string Path, string Reason);

/// <summary>Where an ingest run is.</summary>
public sealed record IngestProgress(int Done, int Total, string Current)
{
    /// <summary>Progress of the vectors once the text is written; null before.</summary>
    public VectorProgress? Vectors { get; init; }
}

/// <summary>
/// The outcome of an ingest run. <see cref="Artifacts"/>, <see cref="Spans"/> and <see cref="Tokens"/> count the
/// artifacts this run saw (added, updated or unchanged) and their spans.
/// </summary>
public sealed record IngestReport(
    int Artifacts, long Spans, long Tokens, int Added, int Updated, int Unchanged, int Removed, int Skipped,
    IReadOnlyList<SkippedFile> SkippedFiles, long ElapsedMs, long BytesRead);
