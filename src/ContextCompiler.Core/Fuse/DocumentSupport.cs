using ContextCompiler.Core.Retrieve;

namespace ContextCompiler.Core.Fuse;

/// <summary>
/// Lets a document's other candidates vouch for each of its spans: a span's fused score gains <c>weight</c> times the
/// scores of the best <see cref="Supporters"/> other candidates of its document. A page that several retrieved spans come
/// from is more likely the page a question is about than one that a single span matched by chance, which matters most
/// with small spans and questions that share few words with the page.
/// </summary>
public static class DocumentSupport
{
    /// <summary>How many of a document's other candidates count.</summary>
    public const int Supporters = 2;

    /// <summary><paramref name="fused"/> rescored and reordered; unchanged when <paramref name="weight"/> is 0 (off).</summary>
    public static IReadOnlyList<FusedCandidate> Apply(IReadOnlyList<FusedCandidate> fused, double weight)
    {
        ArgumentNullException.ThrowIfNull(fused);
        if (weight <= 0 || fused.Count < 2)
        {
            return fused;
        }

        // Best scores first within each document (the list is ordered), the top Supporters + 1 kept.
        var best = new Dictionary<(string Corpus, string Path), List<double>>();
        foreach (var candidate in fused)
        {
            var document = (candidate.Key.Corpus, candidate.Key.Path);
            if (!best.TryGetValue(document, out var scores))
            {
                best[document] = scores = new List<double>(Supporters + 1);
            }

            if (scores.Count <= Supporters)
            {
                scores.Add(candidate.Score);
            }
        }

        // A candidate among its document's best is supported by the others of them; any later one by the best Supporters.
        var seen = new Dictionary<(string Corpus, string Path), int>();
        var rescored = fused.Select(candidate =>
        {
            var document = (candidate.Key.Corpus, candidate.Key.Path);
            var scores = best[document];
            int rank = seen.GetValueOrDefault(document);
            seen[document] = rank + 1;
            double others = rank < scores.Count ? scores.Sum() - scores[rank] : scores.Take(Supporters).Sum();
            return candidate with { Score = candidate.Score + weight * others };
        }).ToList();
        return Ranking.Order(rescored, c => c.Score, c => c.Key);
    }
}
