namespace ContextCompiler.Core.Ingest;

/// <summary>Tracks Markdown ATX headings so each span knows the section it sits in.</summary>
internal static class HeadingTrail
{
    /// <summary>True for an ATX heading line such as <c>## Title</c> (outside code fences, which callers track).</summary>
    public static bool IsHeading(ReadOnlySpan<char> line)
    {
        int level = 0;
        while (level < line.Length && line[level] == '#')
        {
            level++;
        }

        return level is >= 1 and <= 6 && (level == line.Length || line[level] == ' ' || line[level] == '\t');
    }

    /// <summary>For each line, the trail of headings in force there, for example "WAL &gt; Checkpointing".</summary>
    public static string[] PerLine(LineIndex lines)
    {
        var trail = new string[lines.Count];
        var stack = new string?[7];
        string current = string.Empty;
        bool inFence = false;
        for (int i = 0; i < lines.Count; i++)
        {
            var line = lines.Line(i);
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith("```", StringComparison.Ordinal) || trimmed.StartsWith("~~~", StringComparison.Ordinal))
            {
                inFence = !inFence;
            }
            else if (!inFence && IsHeading(line))
            {
                int level = line.IndexOfAnyExcept('#');
                level = level < 0 ? line.Length : level;
                stack[level] = line[level..].Trim().TrimEnd('#').Trim().ToString();
                for (int deeper = level + 1; deeper < stack.Length; deeper++)
                {
                    stack[deeper] = null;
                }

                current = string.Join(" > ", stack.Where(s => !string.IsNullOrEmpty(s)));
            }

            trail[i] = current;
        }

        return trail;
    }
}
