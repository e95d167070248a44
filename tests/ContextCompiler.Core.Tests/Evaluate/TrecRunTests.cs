using ContextCompiler.Core.Evaluate;

namespace ContextCompiler.Core.Tests.Evaluate;

public sealed class TrecRunTests
{
    [Fact]
    public void A_run_is_written_in_trec_eval_order_with_ranks_and_the_tag()
    {
        var run = new Dictionary<string, IReadOnlyList<ScoredDocument>>
        {
            ["q2"] = [new("d1", 0.25)],
            ["q1"] = [new("a", 0.5), new("c", 0.75), new("b", 0.5)],
        };

        Assert.Equal("q1 Q0 c 1 0.75 t\nq1 Q0 b 2 0.5 t\nq1 Q0 a 3 0.5 t\nq2 Q0 d1 1 0.25 t\n", TrecRun.Format(run, "t"));
    }

    [Fact]
    public void Scores_round_trip_exactly_so_ties_and_near_ties_survive()
    {
        double x = 0.1 + 0.2, y = 0.3;   // differ in the last bit
        var run = new Dictionary<string, IReadOnlyList<ScoredDocument>> { ["q"] = [new("a", x), new("b", y), new("c", x)] };

        var parsed = TrecRun.Parse(TrecRun.Format(run, "tag"));

        Assert.Equal(RetrievalMetrics.TrecOrder(run["q"]), RetrievalMetrics.TrecOrder(parsed["q"]));
        Assert.Equal(x, parsed["q"].Single(d => d.DocId == "a").Score);
        Assert.Equal(y, parsed["q"].Single(d => d.DocId == "b").Score);
    }

    [Fact]
    public void Parsing_ignores_the_stated_ranks()
    {
        var parsed = TrecRun.Parse("q Q0 a 1 0.1 t\nq Q0 b 2 0.9 t\n");
        Assert.Equal(["b", "a"], RetrievalMetrics.TrecOrder(parsed["q"]).Select(d => d.DocId));
    }

    [Fact]
    public void A_document_listed_twice_for_a_query_is_rejected()
    {
        var error = Assert.Throws<FormatException>(() => TrecRun.Parse("q Q0 a 1 0.5 t\nq Q0 a 2 0.4 t\n"));
        Assert.Contains("second time", error.Message);
    }

    [Fact]
    public void A_tag_with_spaces_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => TrecRun.Format(new Dictionary<string, IReadOnlyList<ScoredDocument>>(), "two words"));
    }
}
