using ContextCompiler.Core.Embedding;

namespace ContextCompiler.Core.Select;

/// <summary>
/// Maximal marginal relevance: repeatedly takes the candidate with the best
/// λ · relevance − (1 − λ) · (highest similarity to what is already taken). λ = 1 turns it off.
/// Candidates nearly identical in meaning to a taken one are dropped as redundant.
/// </summary>
public static class MmrReranker
{
    /// <summary>Reorders <paramref name="candidates"/> (best first by relevance) for diversity.</summary>
    public static List<Candidate> Apply(IReadOnlyList<Candidate> candidates, double lambda, double redundancyCutoff, List<DroppedCandidate> dropped)
    {
        if (lambda >= 1 || candidates.Count < 2)
        {
            return candidates.ToList();
        }

        double top = candidates.Max(c => c.Score);
        double bottom = candidates.Min(c => c.Score);
        double Relevance(Candidate c) => top > bottom ? (c.Score - bottom) / (top - bottom) : 1;

        var remaining = candidates.ToList();
        var chosen = new List<Candidate>(remaining.Count);
        var maxSimilarity = new double[remaining.Count];
        var alive = Enumerable.Repeat(true, remaining.Count).ToArray();
        for (int round = 0; round < remaining.Count; round++)
        {
            int best = -1;
            double bestValue = double.NegativeInfinity;
            for (int i = 0; i < remaining.Count; i++)
            {
                if (!alive[i])
                {
                    continue;
                }

                double value = lambda * Relevance(remaining[i]) - (1 - lambda) * maxSimilarity[i];
                // Strictly greater keeps the earlier (better ranked, then citation-ordered) candidate on ties.
                if (value > bestValue)
                {
                    (best, bestValue) = (i, value);
                }
            }

            if (best < 0)
            {
                break;
            }

            alive[best] = false;
            var taken = remaining[best];
            chosen.Add(taken);
            for (int i = 0; i < remaining.Count; i++)
            {
                if (!alive[i] || taken.Vector is null || remaining[i].Vector is null)
                {
                    continue;
                }

                double similarity = VectorMath.Dot(taken.Vector, remaining[i].Vector!);
                maxSimilarity[i] = Math.Max(maxSimilarity[i], similarity);
                if (similarity >= redundancyCutoff)
                {
                    alive[i] = false;
                    dropped.Add(new DroppedCandidate(remaining[i].Key, remaining[i].Score, "mmr", DropReasons.Redundant,
                        $"similarity {similarity:F3} to {taken.Key.Corpus}/{taken.Key.Path}:L{taken.Key.StartLine}"));
                }
            }
        }

        return chosen;
    }
}
