namespace ContextCompiler.Core.Evaluate;

/// <summary>A retrieved document and its score in a run.</summary>
public sealed record ScoredDocument(string DocId, double Score);

/// <summary>One query's measures.</summary>
public sealed record QueryMetrics(string QueryId, double NdcgAt10, double RecallAt100, double MrrAt10);

/// <summary>Mean measures over the evaluated queries, and each query's.</summary>
/// <param name="Queries">Queries evaluated: those with at least one relevant document in the qrels.</param>
public sealed record RetrievalScores(int Queries, double NdcgAt10, double RecallAt100, double MrrAt10, IReadOnlyList<QueryMetrics> PerQuery);

/// <summary>
/// The trec_eval measures ndcg_cut.10, recall.100 and recip_rank cut at 10, with trec_eval's conventions: a run is
/// ranked by score descending with ties broken by document id in descending ordinal order (whatever ranks the run
/// states), relevance grades above 0 are relevant, the gain is the grade and the ideal ranking holds every judged
/// relevant document by grade. Queries without a relevant judgement are skipped; judged queries missing from the run
/// score 0 (trec_eval -c).
/// </summary>
public static class RetrievalMetrics
{
    /// <summary>Sorts a query's documents the way trec_eval does: score descending, then document id descending (ordinal).</summary>
    public static List<ScoredDocument> TrecOrder(IEnumerable<ScoredDocument> documents)
    {
        var list = documents.ToList();
        list.Sort((x, y) =>
        {
            int c = y.Score.CompareTo(x.Score);
            return c != 0 ? c : string.CompareOrdinal(y.DocId, x.DocId);
        });
        return list;
    }

    /// <summary>nDCG at <paramref name="k"/>: DCG of the top k (gain = grade, discount 1 / log2(rank + 1)) over the ideal DCG at k.</summary>
    public static double Ndcg(IReadOnlyList<ScoredDocument> ranked, IReadOnlyDictionary<string, int> judgements, int k)
    {
        double dcg = 0;
        for (int i = 0; i < Math.Min(k, ranked.Count); i++)
        {
            if (judgements.TryGetValue(ranked[i].DocId, out int grade) && grade > 0)
            {
                dcg += grade / Math.Log2(i + 2);
            }
        }

        var ideal = judgements.Values.Where(g => g > 0).OrderDescending().Take(k).ToList();
        double idcg = 0;
        for (int i = 0; i < ideal.Count; i++)
        {
            idcg += ideal[i] / Math.Log2(i + 2);
        }

        return idcg > 0 ? dcg / idcg : 0;
    }

    /// <summary>Relevant documents in the top <paramref name="k"/> over all relevant documents.</summary>
    public static double Recall(IReadOnlyList<ScoredDocument> ranked, IReadOnlyDictionary<string, int> judgements, int k)
    {
        int relevant = judgements.Values.Count(g => g > 0);
        if (relevant == 0)
        {
            return 0;
        }

        int found = ranked.Take(k).Count(d => judgements.TryGetValue(d.DocId, out int g) && g > 0);
        return (double)found / relevant;
    }

    /// <summary>1 / rank of the first relevant document when it is within the top <paramref name="k"/>, else 0.</summary>
    public static double ReciprocalRank(IReadOnlyList<ScoredDocument> ranked, IReadOnlyDictionary<string, int> judgements, int k)
    {
        for (int i = 0; i < Math.Min(k, ranked.Count); i++)
        {
            if (judgements.TryGetValue(ranked[i].DocId, out int g) && g > 0)
            {
                return 1.0 / (i + 1);
            }
        }

        return 0;
    }

    /// <summary>
    /// Scores <paramref name="run"/> (documents per query, in any order) against <paramref name="qrels"/> (grade per
    /// document per query). Run queries absent from the qrels are ignored.
    /// </summary>
    public static RetrievalScores Evaluate(
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> qrels, IReadOnlyDictionary<string, IReadOnlyList<ScoredDocument>> run)
    {
        var perQuery = new List<QueryMetrics>();
        foreach (var (queryId, judgements) in qrels.OrderBy(q => q.Key, StringComparer.Ordinal))
        {
            if (!judgements.Values.Any(g => g > 0))
            {
                continue;
            }

            var ranked = run.TryGetValue(queryId, out var documents) ? TrecOrder(documents) : [];
            perQuery.Add(new QueryMetrics(queryId, Ndcg(ranked, judgements, 10), Recall(ranked, judgements, 100), ReciprocalRank(ranked, judgements, 10)));
        }

        return perQuery.Count == 0
            ? new RetrievalScores(0, 0, 0, 0, perQuery)
            : new RetrievalScores(perQuery.Count, perQuery.Average(q => q.NdcgAt10), perQuery.Average(q => q.RecallAt100), perQuery.Average(q => q.MrrAt10), perQuery);
    }

    /// <summary>
    /// Ranks documents from scored spans: a document's score is the best score of its spans. The result is in trec_eval order.
    /// </summary>
    public static List<ScoredDocument> DocumentsFromSpans(IEnumerable<(string DocId, double Score)> spans)
    {
        var best = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (docId, score) in spans)
        {
            best[docId] = best.TryGetValue(docId, out var s) ? Math.Max(s, score) : score;
        }

        return TrecOrder(best.Select(b => new ScoredDocument(b.Key, b.Value)));
    }
}
