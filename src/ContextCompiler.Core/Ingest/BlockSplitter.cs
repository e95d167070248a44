namespace ContextCompiler.Core.Ingest;

/// <summary>A run of lines that should stay together when it fits (0-based, inclusive).</summary>
/// <param name="IsHeading">A Markdown heading line: a span always starts here.</param>
internal readonly record struct Block(int Start, int End, bool IsHeading);

/// <summary>Finds the structural blocks of each kind of source, before they are packed into spans.</summary>
internal static class BlockSplitter
{
    private static readonly string[] DeclarationStarts =
    [
        "def ", "async def ", "class ", "func ", "fn ", "pub ", "impl ", "struct ", "enum ", "interface ", "trait ",
        "type ", "function ", "export ", "public ", "private ", "protected ", "internal ", "static ", "namespace ",
        "package ", "module ", "const ", "let ", "var ", "abstract ", "sealed ", "record ", "template ", "typedef ",
        "#define ", "create ", "[",
    ];

    /// <summary>Paragraphs, headings and fenced code blocks.</summary>
    public static List<Block> Markdown(LineIndex lines)
    {
        var blocks = new List<Block>();
        int start = -1;
        string? fence = null;
        for (int i = 0; i < lines.Count; i++)
        {
            var trimmed = lines.Line(i).TrimStart();
            if (fence is not null)
            {
                if (trimmed.StartsWith(fence, StringComparison.Ordinal))
                {
                    blocks.Add(new Block(start, i, false));
                    start = -1;
                    fence = null;
                }

                continue;
            }

            if (trimmed.StartsWith("```", StringComparison.Ordinal) || trimmed.StartsWith("~~~", StringComparison.Ordinal))
            {
                Close(blocks, ref start, i - 1);
                start = i;
                fence = trimmed[..3].ToString();
                continue;
            }

            if (trimmed.IsEmpty)
            {
                Close(blocks, ref start, i - 1);
            }
            else if (HeadingTrail.IsHeading(lines.Line(i)))
            {
                Close(blocks, ref start, i - 1);
                blocks.Add(new Block(i, i, true));
            }
            else if (start < 0)
            {
                start = i;
            }
        }

        Close(blocks, ref start, lines.Count - 1);
        return blocks;
    }

    /// <summary>Blank-line separated blocks, also cut before top-level declarations.</summary>
    public static List<Block> Code(LineIndex lines) =>
        BlankSeparated(lines, i => StartsDeclaration(lines.Line(i)) && !IsPreamble(lines.Line(i - 1)) || EndsTopLevelBlock(lines.Line(i - 1)));

    /// <summary>Blank-line separated paragraphs.</summary>
    public static List<Block> Paragraphs(LineIndex lines) => BlankSeparated(lines, _ => false);

    // Blocks end at blank lines, and also before any line for which startsBlock is true.
    private static List<Block> BlankSeparated(LineIndex lines, Func<int, bool> startsBlock)
    {
        var blocks = new List<Block>();
        int start = -1;
        for (int i = 0; i < lines.Count; i++)
        {
            if (lines.IsBlank(i))
            {
                Close(blocks, ref start, i - 1);
            }
            else if (start < 0)
            {
                start = i;
            }
            else if (startsBlock(i))
            {
                Close(blocks, ref start, i - 1);
                start = i;
            }
        }

        Close(blocks, ref start, lines.Count - 1);
        return blocks;
    }

    private static void Close(List<Block> blocks, ref int start, int end)
    {
        if (start >= 0 && end >= start)
        {
            blocks.Add(new Block(start, end, false));
        }

        start = -1;
    }

    private static bool StartsDeclaration(ReadOnlySpan<char> line)
    {
        if (line.IsEmpty || char.IsWhiteSpace(line[0]))
        {
            return false;
        }

        foreach (var keyword in DeclarationStarts)
        {
            if (line.StartsWith(keyword, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    // Comments and attributes directly above a declaration belong to it.
    private static bool IsPreamble(ReadOnlySpan<char> previous)
    {
        var t = previous.TrimStart();
        return t.StartsWith("//") || t.StartsWith("#") || t.StartsWith("/*") || t.StartsWith("*") || t.StartsWith("[")
            || t.StartsWith("@") || t.StartsWith("--") || t.StartsWith("\"\"\"");
    }

    private static bool EndsTopLevelBlock(ReadOnlySpan<char> previous) =>
        previous is "}" or "};" or "end" or ")";
}
