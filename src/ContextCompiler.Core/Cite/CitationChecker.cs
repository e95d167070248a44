using System.Text.RegularExpressions;

namespace ContextCompiler.Core.Cite;

/// <summary>
/// How an assistant's reply used the working set of the turn it answers. <see cref="Unknown"/> lists markers that
/// name no citation of that working set: the hallucinated citations users of other RAG systems report.
/// </summary>
/// <param name="Markers">Every <c>[n]</c> marker in the reply, repeats included.</param>
/// <param name="Used">Citations of the working set the reply refers to, ascending.</param>
/// <param name="Unknown">Numbers the reply cites that the working set does not have, ascending.</param>
/// <param name="Unused">Citations of the working set the reply never refers to, ascending.</param>
/// <param name="Sentences">Sentences in the reply.</param>
/// <param name="SentencesWithMarker">Sentences holding at least one marker.</param>
/// <param name="MarkedShare">SentencesWithMarker / Sentences (0 for an empty reply).</param>
public sealed record CitationCheck(
    int Markers, IReadOnlyList<int> Used, IReadOnlyList<int> Unknown, IReadOnlyList<int> Unused, int Sentences, int SentencesWithMarker, double MarkedShare);

/// <summary>Checks the <c>[n]</c> markers of a reply against the citation numbers of a working set.</summary>
public static partial class CitationChecker
{
    /// <summary>The check of <paramref name="reply"/> against a working set whose citations are numbered <paramref name="citations"/>.</summary>
    public static CitationCheck Check(string reply, IReadOnlyCollection<int> citations)
    {
        var available = citations.ToHashSet();
        var cited = new List<int>();
        foreach (Match group in MarkerGroup().Matches(reply))
        {
            foreach (var part in group.Groups[1].Value.Split(','))
            {
                if (int.TryParse(part.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n))
                {
                    cited.Add(n);
                }
            }
        }

        var sentences = SentenceEnd().Split(reply).Select(s => s.Trim()).Where(s => s.Length > 0).ToList();
        int marked = sentences.Count(s => MarkerGroup().IsMatch(s));
        var distinct = cited.Distinct().Order().ToList();
        return new CitationCheck(
            cited.Count,
            distinct.Where(available.Contains).ToList(),
            distinct.Where(n => !available.Contains(n)).ToList(),
            available.Where(n => !distinct.Contains(n)).Order().ToList(),
            sentences.Count,
            marked,
            sentences.Count == 0 ? 0 : Math.Round((double)marked / sentences.Count, 6));
    }

    // [3], [1,2] and [1, 2]; a marker is at most four digits so that years in brackets are not taken for citations.
    [GeneratedRegex(@"\[(\d{1,4}(?:\s*,\s*\d{1,4})*)\]")]
    private static partial Regex MarkerGroup();

    // A sentence ends at . ! or ? followed by white space, or at a line break; a marker after the stop stays with its sentence.
    [GeneratedRegex(@"(?<=[.!?](?:\s*\[\d[\d,\s]*\])*)\s+|\n+")]
    private static partial Regex SentenceEnd();
}
