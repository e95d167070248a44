namespace ContextCompiler.Core.Select;

/// <summary>
/// Removes candidates that cannot add anything: scores below a fraction of the best, spans whose lines a
/// better candidate of the same artifact already covers, and spans whose text repeats a better one.
/// Adjacent and partly overlapping spans stay: the packer merges them, so no line is counted twice.
/// </summary>
public static class CandidateFilter
{
    /// <summary>Keeps the useful candidates in order; <paramref name="dropped"/> receives the rest with reasons.</summary>
    public static List<Candidate> Apply(IReadOnlyList<Candidate> ranked, double minRelativeScore, List<DroppedCandidate> dropped)
    {
        var kept = new List<Candidate>();
        var texts = new HashSet<string>(StringComparer.Ordinal);
        double top = ranked.Count == 0 ? 0 : ranked[0].Score;
        foreach (var candidate in ranked)
        {
            if (top > 0 && candidate.Score < minRelativeScore * top)
            {
                dropped.Add(new DroppedCandidate(candidate.Key, candidate.Score, "select", DropReasons.BelowThreshold,
                    $"score {candidate.Score:G4} < {minRelativeScore:G3} x best {top:G4}"));
                continue;
            }

            var cover = kept.FirstOrDefault(k => k.Key.Corpus == candidate.Key.Corpus && k.Key.Path == candidate.Key.Path
                && k.Key.StartLine <= candidate.Key.StartLine && k.Span.EndLine >= candidate.Span.EndLine);
            if (cover is not null || !texts.Add(candidate.Span.Text))
            {
                var by = cover ?? kept.First(k => k.Span.Text == candidate.Span.Text);
                dropped.Add(new DroppedCandidate(candidate.Key, candidate.Score, "select", DropReasons.Duplicate,
                    $"same lines as {by.Key.Corpus}/{by.Key.Path}:L{by.Key.StartLine}-L{by.Span.EndLine}"));
                continue;
            }

            kept.Add(candidate);
        }

        return kept;
    }
}
