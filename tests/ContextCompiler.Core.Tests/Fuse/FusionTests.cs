using ContextCompiler.Core.Fuse;
using ContextCompiler.Core.Retrieve;

namespace ContextCompiler.Core.Tests.Fuse;

/// <summary>The fusion methods, computed by hand on small lists.</summary>
public sealed class FusionTests
{
    private static RankedSpan S(long id, double score) => new(new SpanKey(id, "c", $"p{id}.md", 1), score);

    [Fact]
    public void Z_score_fusion_weighs_standardised_scores_and_gives_a_missing_candidate_its_lists_lowest()
    {
        // Lexical scores 3, 2, 1: mean 2, deviation sqrt(2/3). Vector scores 0.9, 0.5: mean 0.7, deviation 0.2.
        var lexical = new[] { S(1, 3), S(2, 2), S(3, 1) };
        var vector = new[] { S(3, 0.9), S(4, 0.5) };
        var fused = new ZScoreFusion(0.5).Fuse(lexical, vector).ToDictionary(f => f.Key.Id, f => f.Score);

        double sd = Math.Sqrt(2.0 / 3);
        Assert.Equal(0.5 * (1 / sd) + 0.5 * -1, fused[1], 9);   // lexical z 1/sd, missing from vectors: z −1 (lowest there)
        Assert.Equal(0.5 * 0 + 0.5 * -1, fused[2], 9);
        Assert.Equal(0.5 * (-1 / sd) + 0.5 * 1, fused[3], 9);
        Assert.Equal(0.5 * (-1 / sd) + 0.5 * -1, fused[4], 9); // missing from lexical: that list's lowest z
        Assert.Equal([1L, 3L, 2L, 4L], new ZScoreFusion(0.5).Fuse(lexical, vector).Select(f => f.Key.Id));
    }

    [Fact]
    public void Z_score_fusion_with_weight_zero_keeps_the_lexical_order()
    {
        var lexical = new[] { S(1, 9), S(2, 5), S(3, 4) };
        var vector = new[] { S(3, 0.99), S(2, 0.1) };
        Assert.Equal([1L, 2L, 3L], new ZScoreFusion(0).Fuse(lexical, vector).Select(f => f.Key.Id));
    }

    [Fact]
    public void Linear_fusion_min_max_normalises_each_list()
    {
        var lexical = new[] { S(1, 10), S(2, 6) };
        var vector = new[] { S(2, 0.8), S(3, 0.4) };
        var fused = new LinearFusion(0.5).Fuse(lexical, vector).ToDictionary(f => f.Key.Id, f => f.Score);
        Assert.Equal(0.5, fused[1], 9);
        Assert.Equal(0.5, fused[2], 9);
        Assert.Equal(0.0, fused[3], 9);
    }
}
