using System.Globalization;
using System.Text;

namespace ContextCompiler.Core.Evaluate;

/// <summary>
/// The TREC run format, one line per retrieved document: <c>qid Q0 docid rank score tag</c>. Documents are written in
/// trec_eval order (score descending, ties by document id descending) and scores in round-trip form, so that equal
/// scores stay equal and trec_eval ranks exactly as we did.
/// </summary>
public static class TrecRun
{
    /// <summary>The run as text, queries in ordinal order of their ids.</summary>
    public static string Format(IReadOnlyDictionary<string, IReadOnlyList<ScoredDocument>> run, string tag)
    {
        if (tag.Length == 0 || tag.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException($"A run tag must be one word, not '{tag}'.", nameof(tag));
        }

        var text = new StringBuilder();
        foreach (var (queryId, documents) in run.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            var ranked = RetrievalMetrics.TrecOrder(documents);
            for (int i = 0; i < ranked.Count; i++)
            {
                text.Append(CultureInfo.InvariantCulture, $"{queryId} Q0 {ranked[i].DocId} {i + 1} {ranked[i].Score.ToString("R", CultureInfo.InvariantCulture)} {tag}\n");
            }
        }

        return text.ToString();
    }

    /// <summary>Reads a run; the stated ranks are ignored, as trec_eval ignores them.</summary>
    /// <exception cref="FormatException">A line without six fields, a bad score, or a document listed twice for a query.</exception>
    public static Dictionary<string, IReadOnlyList<ScoredDocument>> Parse(string text)
    {
        var run = new Dictionary<string, List<ScoredDocument>>(StringComparer.Ordinal);
        var seen = new HashSet<(string, string)>();
        int lineNumber = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 6 || !double.TryParse(fields[4], NumberStyles.Float, CultureInfo.InvariantCulture, out double score))
            {
                throw new FormatException($"Run line {lineNumber} is not 'qid Q0 docid rank score tag': '{line.Trim()}'.");
            }

            if (!seen.Add((fields[0], fields[2])))
            {
                throw new FormatException($"Run line {lineNumber} lists document '{fields[2]}' a second time for query '{fields[0]}'.");
            }

            if (!run.TryGetValue(fields[0], out var documents))
            {
                run[fields[0]] = documents = [];
            }

            documents.Add(new ScoredDocument(fields[2], score));
        }

        return run.ToDictionary(r => r.Key, r => (IReadOnlyList<ScoredDocument>)r.Value, StringComparer.Ordinal);
    }
}
