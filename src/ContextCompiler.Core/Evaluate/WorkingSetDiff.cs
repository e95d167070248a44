using ContextCompiler.Core.Compile;

namespace ContextCompiler.Core.Evaluate;

/// <summary>A cited line range, the identity of a citation when two working sets are compared.</summary>
public sealed record CitedRange(string Corpus, string Path, int StartLine, int EndLine)
{
    /// <summary>The range a citation covers.</summary>
    public static CitedRange Of(Citation citation) => new(citation.Corpus, citation.Path, citation.StartLine, citation.EndLine);
}

/// <summary>How a working set compiled again differs from the one compiled before.</summary>
/// <param name="Added">Ranges cited only by the new working set, in its citation order.</param>
/// <param name="Removed">Ranges cited only by the old working set, in its citation order.</param>
/// <param name="Kept">Ranges cited by both, in the new working set's citation order.</param>
/// <param name="TokenDelta">New token count minus old.</param>
/// <param name="Jaccard">
/// |old ∩ new| / |old ∪ new| over the cited lines as (corpus, path, line) triples; 1 when neither cites anything.
/// Unlike <paramref name="Added"/>/<paramref name="Removed"/>, a range that moved by a few lines still mostly counts as overlap.
/// </param>
/// <param name="Identical">Both texts have the same sha256 (<see cref="Manifest.ContextHash"/>).</param>
public sealed record WorkingSetComparison(
    IReadOnlyList<CitedRange> Added, IReadOnlyList<CitedRange> Removed, IReadOnlyList<CitedRange> Kept,
    int OldTokens, int NewTokens, int TokenDelta, double Jaccard, string OldContextHash, string NewContextHash, bool Identical);

/// <summary>Compares two working sets by what they cite and what they cost. Pure: no index, no I/O.</summary>
public static class WorkingSetDiff
{
    /// <summary>
    /// The difference from <paramref name="before"/> to <paramref name="after"/>. Citations are matched by exact range
    /// (corpus, path, start and end line); a range cited twice in one set counts once.
    /// </summary>
    public static WorkingSetComparison Compare(WorkingSet before, WorkingSet after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var oldRanges = Ranges(before);
        var newRanges = Ranges(after);
        var oldSet = oldRanges.ToHashSet();
        var newSet = newRanges.ToHashSet();

        var added = newRanges.Where(r => !oldSet.Contains(r)).ToList();
        var removed = oldRanges.Where(r => !newSet.Contains(r)).ToList();
        var kept = newRanges.Where(oldSet.Contains).ToList();
        string oldHash = before.Manifest.ContextHash, newHash = after.Manifest.ContextHash;
        return new WorkingSetComparison(added, removed, kept, before.TokenCount, after.TokenCount, after.TokenCount - before.TokenCount,
            LineJaccard(oldRanges, newRanges), oldHash, newHash, string.Equals(oldHash, newHash, StringComparison.Ordinal));
    }

    /// <summary>
    /// Jaccard overlap of the lines two lists of ranges cover, as (corpus, path, line) triples; 1 when both cover nothing.
    /// Rounded to 6 decimals so that JSON output is stable.
    /// </summary>
    public static double LineJaccard(IEnumerable<CitedRange> first, IEnumerable<CitedRange> second)
    {
        var a = Lines(first);
        var b = Lines(second);
        if (a.Count == 0 && b.Count == 0)
        {
            return 1.0;
        }

        int intersection = a.Count(b.Contains);
        int union = a.Count + b.Count - intersection;
        return Math.Round((double)intersection / union, 6);
    }

    // Distinct ranges in citation order.
    private static List<CitedRange> Ranges(WorkingSet set) => set.Citations.Select(CitedRange.Of).Distinct().ToList();

    private static HashSet<(string Corpus, string Path, int Line)> Lines(IEnumerable<CitedRange> ranges)
    {
        var lines = new HashSet<(string, string, int)>();
        foreach (var r in ranges)
        {
            for (int line = r.StartLine; line <= r.EndLine; line++)
            {
                lines.Add((r.Corpus, r.Path, line));
            }
        }

        return lines;
    }
}
