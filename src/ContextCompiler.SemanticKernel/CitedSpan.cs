using ContextCompiler.Client;

namespace ContextCompiler.SemanticKernel;

/// <summary>One block of a working set: its citation and the cited lines as rendered (without the <c>[n]</c> header line).</summary>
public sealed record CitedSpan(Citation Citation, string Text)
{
    /// <summary><c>path:Lstart-Lend</c>, the name a search result carries.</summary>
    public string Name => $"{Citation.Path}:L{Citation.StartLine}-L{Citation.EndLine}";

    /// <summary><c>corpus/path#Lstart-Lend</c>, a link in the form code hosts use for a line range.</summary>
    public string Link => $"{Citation.Corpus}/{Citation.Path}#L{Citation.StartLine}-L{Citation.EndLine}";

    /// <summary>The blocks of <paramref name="workingSet"/> in citation order, each with its own text.</summary>
    /// <exception cref="FormatException">A citation's header is not in the text where the service's layout puts it.</exception>
    public static IReadOnlyList<CitedSpan> Split(WorkingSet workingSet)
    {
        ArgumentNullException.ThrowIfNull(workingSet);
        // The service renders each block as "[n] corpus/path:Lstart-Lend\n" + lines, blocks joined by one blank line.
        // Headers are looked for in order, each after the previous block's start, so a span whose own text happens to
        // hold a header-like line cannot be mistaken for the next block.
        var citations = workingSet.Citations.OrderBy(c => c.N).ToList();
        var starts = new int[citations.Count];
        var headers = new string[citations.Count];
        int from = 0;
        for (int i = 0; i < citations.Count; i++)
        {
            var c = citations[i];
            headers[i] = $"[{c.N}] {c.Corpus}/{c.Path}:L{c.StartLine}-L{c.EndLine}\n";
            int at = workingSet.Text.IndexOf(headers[i], from, StringComparison.Ordinal);
            if (at < 0 || (i == 0 ? at != 0 : workingSet.Text.AsSpan(at - Separator.Length, Separator.Length) is not Separator))
            {
                throw new FormatException($"Citation [{c.N}] ({headers[i].TrimEnd()}) is not a block of the working set's text; the service's layout may have changed.");
            }

            starts[i] = at;
            from = at + headers[i].Length;
        }

        var spans = new CitedSpan[citations.Count];
        for (int i = 0; i < citations.Count; i++)
        {
            int textStart = starts[i] + headers[i].Length;
            int textEnd = i + 1 < citations.Count ? starts[i + 1] - Separator.Length : workingSet.Text.Length;
            spans[i] = new CitedSpan(citations[i], workingSet.Text[textStart..textEnd]);
        }

        return spans;
    }

    private const string Separator = "\n\n";
}
