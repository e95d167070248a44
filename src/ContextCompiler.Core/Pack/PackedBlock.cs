using ContextCompiler.Core.Retrieve;

namespace ContextCompiler.Core.Pack;

/// <summary>One block of the working set: a contiguous line range of one artifact, maybe merged from several spans.</summary>
public sealed class PackedBlock
{
    internal PackedBlock(string corpus, string path, int startLine, string[] lines, double score, bool truncated, SpanKey source)
    {
        Corpus = corpus;
        Path = path;
        StartLine = startLine;
        Lines = lines;
        Score = score;
        Truncated = truncated;
        Sources = [source];
    }

    public string Corpus { get; }

    public string Path { get; }

    public int StartLine { get; internal set; }

    public int EndLine => StartLine + Lines.Length - 1;

    /// <summary>The block's lines, exactly as stored.</summary>
    public string[] Lines { get; internal set; }

    /// <summary>The best score of the spans in the block.</summary>
    public double Score { get; internal set; }

    /// <summary>True when the block is a cut prefix of its span.</summary>
    public bool Truncated { get; }

    /// <summary>The spans this block was built from, first the one that opened it.</summary>
    public List<SpanKey> Sources { get; }

    /// <summary>Tokens of the text followed by the separator, and of the text alone.</summary>
    internal (int WithSeparator, int Alone) TextTokens { get; set; }

    /// <summary>The block's text: its lines joined with <c>\n</c>.</summary>
    public string Text => string.Join('\n', Lines);

    internal bool Touches(string corpus, string path, int start, int end) =>
        Corpus == corpus && Path == path && !Truncated && start <= EndLine + 1 && end >= StartLine - 1;
}
