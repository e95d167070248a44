namespace ContextCompiler.Core.Ingest;

/// <summary>
/// Offsets of the lines of an artifact's content (which uses <c>\n</c> line ends), so that any line
/// range can be sliced out exactly without copying. A final newline does not start another line.
/// </summary>
public sealed class LineIndex
{
    private readonly string _content;
    private readonly int[] _starts;
    private readonly int[] _ends;

    private LineIndex(string content, int[] starts, int[] ends)
    {
        _content = content;
        _starts = starts;
        _ends = ends;
    }

    /// <summary>Number of lines.</summary>
    public int Count => _starts.Length;

    /// <summary>Indexes <paramref name="content"/>.</summary>
    public static LineIndex Of(string content)
    {
        var starts = new List<int>();
        var ends = new List<int>();
        int start = 0;
        while (start < content.Length)
        {
            int newline = content.IndexOf('\n', start);
            int end = newline < 0 ? content.Length : newline;
            starts.Add(start);
            ends.Add(end);
            start = end + 1;
        }

        return new LineIndex(content, starts.ToArray(), ends.ToArray());
    }

    /// <summary>Line <paramref name="index"/> (0-based) without its line end.</summary>
    public ReadOnlySpan<char> Line(int index) => _content.AsSpan(_starts[index], _ends[index] - _starts[index]);

    /// <summary>Lines <paramref name="first"/>..<paramref name="last"/> (0-based, inclusive) joined with <c>\n</c>.</summary>
    public ReadOnlySpan<char> Range(int first, int last) => _content.AsSpan(_starts[first], _ends[last] - _starts[first]);

    /// <summary>True when line <paramref name="index"/> holds only whitespace.</summary>
    public bool IsBlank(int index) => Line(index).IsWhiteSpace();
}
