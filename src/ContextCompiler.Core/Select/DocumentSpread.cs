namespace ContextCompiler.Core.Select;

/// <summary>
/// Spreads a working set across documents: past a document's first <c>maxPerDocument</c> candidates, its further ones
/// wait behind every other document's first ones. At a small budget, the neighbouring spans of two or three pages
/// otherwise fill the whole set, and a page that ranked lower but answers the question never gets in. Nothing is
/// dropped: the budget left after every document had its turn still goes to the waiting spans, best first.
/// </summary>
public static class DocumentSpread
{
    /// <summary><paramref name="ranked"/> reordered; unchanged when <paramref name="maxPerDocument"/> is 0 (off).</summary>
    public static List<Candidate> Apply(IReadOnlyList<Candidate> ranked, int maxPerDocument)
    {
        ArgumentNullException.ThrowIfNull(ranked);
        if (maxPerDocument <= 0)
        {
            return [.. ranked];
        }

        var seen = new Dictionary<(string Corpus, string Path), int>();
        var first = new List<Candidate>(ranked.Count);
        var waiting = new List<Candidate>();
        foreach (var candidate in ranked)
        {
            var document = (candidate.Key.Corpus, candidate.Key.Path);
            int taken = seen.GetValueOrDefault(document);
            seen[document] = taken + 1;
            (taken < maxPerDocument ? first : waiting).Add(candidate);
        }

        first.AddRange(waiting);
        return first;
    }
}
