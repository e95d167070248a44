using ContextCompiler.Core.Evaluate;

namespace ContextCompiler.Core.Tests.Evaluate;

public sealed class EvalStrategiesTests
{
    [Fact]
    public void Shared_settings_reach_every_strategy_but_do_not_override_what_defines_one()
    {
        var bm25 = EvalStrategies.Select(EvalStrategies.Retrieval, "bm25").Single();
        var options = bm25.Options(["vectorWeight=0.5", "k1=1.2", "titleWeight=0"]);

        Assert.Equal(0, options.VectorWeight);
        Assert.Equal(1.2, options.Bm25.K1);
        Assert.Equal(0, options.LexicalWeights.Title);
    }

    [Fact]
    public void The_named_strategies_have_the_documented_overrides()
    {
        var byName = EvalStrategies.Retrieval.ToDictionary(s => s.Name, s => s.Options([]));
        Assert.Equal(1, byName["vector"].VectorWeight);
        Assert.Equal("rrf", byName["hybrid-rrf"].Fusion);
        Assert.Equal(0.7, byName["hybrid-mmr"].MmrLambda);
        Assert.Equal("greedy-stop", byName["greedy-stop"].Packing);
        Assert.Equal("topk-truncate", byName["topk-truncate"].Packing);
        Assert.Equal(new Compile.CompilerOptions(), byName["default"]);
    }

    [Fact]
    public void Selecting_keeps_the_catalogue_order_and_rejects_unknown_names()
    {
        Assert.Equal(["bm25", "vector"], EvalStrategies.Select(EvalStrategies.Retrieval, "vector, bm25").Select(s => s.Name));
        var error = Assert.Throws<ArgumentException>(() => EvalStrategies.Select(EvalStrategies.Retrieval, "bm25,splade"));
        Assert.Contains("splade", error.Message);
    }

    [Fact]
    public void Budgets_are_parsed_sorted_and_distinct()
    {
        Assert.Equal([250, 1000, 4000], EvalStrategies.ParseBudgets("4000,250,1000,250"));
        Assert.Equal(EvalStrategies.DefaultBudgets, EvalStrategies.ParseBudgets(null));
        Assert.Throws<ArgumentException>(() => EvalStrategies.ParseBudgets("250,-1"));
    }

    [Fact]
    public void A_limited_sample_is_spread_evenly_over_the_set()
    {
        var items = Enumerable.Range(0, 10).ToList();
        Assert.Equal([0, 2, 5, 7], EvalSampling.Spread(items, 4));
        Assert.Same(items, EvalSampling.Spread(items, 20));
        Assert.Same(items, EvalSampling.Spread(items, null));
    }

    [Fact]
    public void Percentiles_use_the_nearest_rank()
    {
        double[] values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
        Assert.Equal(5, EvalStatistics.Percentile(values, 50));
        Assert.Equal(10, EvalStatistics.Percentile(values, 95));
        Assert.Equal(0, EvalStatistics.Percentile([], 50));
    }
}
