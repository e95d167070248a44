using System.Text;

namespace ContextCompiler.Core.Render;

/// <summary>
/// The exact text layout of a working set: each block is a header line <c>[n] corpus/path:Lstart-Lend</c>
/// followed by the span's lines, and blocks are separated by one blank line.
/// </summary>
/// <remarks>
/// Every block's header starts with "[" right after a line break, and tiktoken's pre-tokenizer always splits
/// there, so the token count of the whole text is the sum of the counts of "header", "text + separator"
/// pieces (the last block without separator). The packer relies on that to stay exact without recounting.
/// </remarks>
public static class WorkingSetFormat
{
    /// <summary>Between two blocks.</summary>
    public const string Separator = "\n\n";

    /// <summary>The header line of citation <paramref name="n"/>, including its line break.</summary>
    public static string Header(int n, string corpus, string path, int startLine, int endLine) =>
        $"[{n}] {corpus}/{path}:L{startLine}-L{endLine}\n";

    /// <summary>Joins rendered blocks into the working set's text.</summary>
    public static string Join(IEnumerable<(string Header, string Text)> blocks)
    {
        var builder = new StringBuilder();
        foreach (var (header, text) in blocks)
        {
            if (builder.Length > 0)
            {
                builder.Append(Separator);
            }

            builder.Append(header).Append(text);
        }

        return builder.ToString();
    }
}
