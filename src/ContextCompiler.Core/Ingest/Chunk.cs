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
    /// <summary>
    /// Largest span in tokens (default 64). A single line longer than this becomes a span on its own. Small spans are
    /// matched one idea at a time (a 256-token span's one vector averages several), and the packer joins neighbouring
    /// spans of a page back into one block: on the naive dev questions 64 cited the right page at 1000 tokens for 61 of
    /// 88 against 54 for 256 (96: 62), the careful dev questions went from 28 / 30 / 30 to 27 / 29 / 30 at 250 / 1000 /
    /// 4000 tokens with the compile defaults chosen with it, and a cold ingest took 0.82× as long (benchmarks/RESULTS.md, issue 18).
    /// </summary>
    public int MaxTokens { get; init; } = 64;

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
