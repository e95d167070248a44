using ContextCompiler.Core.Evaluate;

namespace ContextCompiler.Core.Tests.Evaluate;

public sealed class RetrievalMetricsTests
{
    private const double Tolerance = 1e-9;

    private static IReadOnlyDictionary<string, int> Judged(params (string Doc, int Grade)[] judgements) =>
        judgements.ToDictionary(j => j.Doc, j => j.Grade, StringComparer.Ordinal);

    private static List<ScoredDocument> Ranked(params string[] documents) =>
        documents.Select((d, i) => new ScoredDocument(d, documents.Length - i)).ToList();

    [Fact]
    public void Ties_are_ranked_by_document_id_descending_like_trec_eval()
    {
        var ranked = RetrievalMetrics.TrecOrder([new("a", 1.0), new("c", 2.0), new("b", 1.0), new("d", 1.0), new("B", 1.0)]);
        Assert.Equal(["c", "d", "b", "a", "B"], ranked.Select(d => d.DocId));
    }

    [Fact]
    public void A_tie_puts_the_larger_document_id_first_in_every_measure()
    {
        // "a" is relevant but ties with "b", which trec_eval ranks first.
        var run = new Dictionary<string, IReadOnlyList<ScoredDocument>> { ["q"] = [new("a", 0.5), new("b", 0.5)] };
        var scores = RetrievalMetrics.Evaluate(new Dictionary<string, IReadOnlyDictionary<string, int>> { ["q"] = Judged(("a", 1)) }, run);
        Assert.Equal(1 / Math.Log2(3), scores.NdcgAt10, Tolerance);
        Assert.Equal(0.5, scores.MrrAt10, Tolerance);
    }

    [Fact]
    public void Ndcg_with_binary_relevance_matches_the_hand_computed_value()
    {
        // DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3).
        double ndcg = RetrievalMetrics.Ndcg(Ranked("d1", "d2", "d3"), Judged(("d1", 1), ("d3", 1)), 10);
        Assert.Equal(1.5 / (1 + (1 / Math.Log2(3))), ndcg, Tolerance);
        Assert.Equal(0.919720, ndcg, 1e-6);
    }

    [Fact]
    public void Ndcg_uses_grades_as_gains_and_the_ideal_order_by_grade()
    {
        // Ranked c(0), b(1), a(2): DCG = 1/log2(3) + 2/log2(4); ideal a, b: 2 + 1/log2(3).
        double ndcg = RetrievalMetrics.Ndcg(Ranked("c", "b", "a"), Judged(("a", 2), ("b", 1), ("c", 0)), 10);
        Assert.Equal(((1 / Math.Log2(3)) + 1) / (2 + (1 / Math.Log2(3))), ndcg, Tolerance);
        Assert.Equal(0.619907, ndcg, 1e-6);
    }

    [Fact]
    public void Judged_relevant_documents_that_were_not_retrieved_still_count_in_the_ideal()
    {
        var judged = Judged(("a", 1), ("z", 1));
        Assert.Equal(1 / (1 + (1 / Math.Log2(3))), RetrievalMetrics.Ndcg(Ranked("a"), judged, 10), Tolerance);
        Assert.Equal(0.5, RetrievalMetrics.Recall(Ranked("a"), judged, 100), Tolerance);
    }

    [Fact]
    public void The_ideal_ranking_is_cut_at_k()
    {
        var judged = Judged(Enumerable.Range(0, 12).Select(i => ($"r{i:00}", 1)).ToArray());
        var ranked = Ranked(Enumerable.Range(0, 12).Select(i => $"r{i:00}").ToArray());
        Assert.Equal(1.0, RetrievalMetrics.Ndcg(ranked, judged, 10), Tolerance);
    }

    [Fact]
    public void Negative_and_zero_grades_are_not_relevant()
    {
        var judged = Judged(("a", -1), ("b", 0), ("c", 1));
        var ranked = Ranked("a", "b", "c");
        Assert.Equal(1 / Math.Log2(4), RetrievalMetrics.Ndcg(ranked, judged, 10), Tolerance);
        Assert.Equal(1.0 / 3, RetrievalMetrics.ReciprocalRank(ranked, judged, 10), Tolerance);
    }

    [Fact]
    public void Recall_at_100_ignores_relevant_documents_ranked_below_100()
    {
        var ranked = Ranked(Enumerable.Range(1, 101).Select(i => $"d{i:000}").ToArray());
        Assert.Equal(0.5, RetrievalMetrics.Recall(ranked, Judged(("d001", 1), ("d101", 1)), 100), Tolerance);
    }

    [Fact]
    public void Mrr_at_10_is_zero_when_the_first_relevant_document_is_at_rank_11()
    {
        var ranked = Ranked(Enumerable.Range(1, 11).Select(i => $"d{i:00}").ToArray());
        Assert.Equal(0, RetrievalMetrics.ReciprocalRank(ranked, Judged(("d11", 1)), 10));
        Assert.Equal(0.1, RetrievalMetrics.ReciprocalRank(ranked, Judged(("d10", 1), ("d11", 1)), 10), Tolerance);
    }

    [Fact]
    public void Only_judged_queries_with_a_relevant_document_are_averaged_and_unretrieved_ones_score_zero()
    {
        var qrels = new Dictionary<string, IReadOnlyDictionary<string, int>>
        {
            ["q1"] = Judged(("a", 1)),
            ["q2"] = Judged(("b", 1)),   // judged, but the run has nothing for it: scores 0
            ["q3"] = Judged(("c", 0)),   // no relevant document: skipped
        };
        var run = new Dictionary<string, IReadOnlyList<ScoredDocument>>
        {
            ["q1"] = [new("a", 2), new("x", 1)],
            ["q9"] = [new("a", 1)],      // not in the qrels: ignored
            ["q3"] = [new("c", 1)],
        };

        var scores = RetrievalMetrics.Evaluate(qrels, run);

        Assert.Equal(2, scores.Queries);
        Assert.Equal(["q1", "q2"], scores.PerQuery.Select(q => q.QueryId));
        Assert.Equal(0.5, scores.NdcgAt10, Tolerance);
        Assert.Equal(0.5, scores.RecallAt100, Tolerance);
        Assert.Equal(0.5, scores.MrrAt10, Tolerance);
    }

    [Fact]
    public void A_document_scores_its_best_span()
    {
        var ranked = RetrievalMetrics.DocumentsFromSpans([("a", 0.2), ("b", 0.5), ("a", 0.9), ("b", 0.1), ("c", 0.5)]);
        Assert.Equal([new ScoredDocument("a", 0.9), new ScoredDocument("c", 0.5), new ScoredDocument("b", 0.5)], ranked);
    }
}
