namespace ContextCompiler.Core.Ingest;

/// <summary>
/// A span of an artifact: lines <see cref="StartLine"/>..<see cref="EndLine"/> (1-based, inclusive)
/// of its content, joined with <c>\n</c>, with the exact token count of that text.
/// </summary>
/// <param name="Heading">The heading trail in force at the span (for example "WAL &gt; Checkpointing"); empty for code.</param>
public sealed record Chunk(int StartLine, int EndLine, string Heading, string Text, int Tokens);

/// <summary>How artifacts are cut into spans. Part of each artifact's fingerprint, so a change re-chunks.</summary>
public sealed record ChunkingOptions
{
    /// <summary>Largest span in tokens (default 256). A single line longer than this becomes a span on its own.</summary>
    public int MaxTokens { get; init; } = 256;

    /// <summary>Tokens of trailing lines repeated at the start of the next span when a span is cut for size (default 0).</summary>
    public int OverlapTokens { get; init; }

    /// <summary>A stable string identifying these options and the chunker's version.</summary>
    public string Fingerprint => $"chunker-v2;max={MaxTokens};overlap={OverlapTokens}";

    /// <summary>Throws when the options cannot produce spans.</summary>
    public void Validate()
    {
        if (MaxTokens < 16)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTokens), MaxTokens, "The maximum span size must be at least 16 tokens.");
        }

        if (OverlapTokens < 0 || OverlapTokens >= MaxTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(OverlapTokens), OverlapTokens, "Overlap must be at least 0 and below the maximum span size.");
        }
    }
}
