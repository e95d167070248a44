using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Fuse;
using ContextCompiler.Core.Retrieve;

namespace ContextCompiler.Core.Tests.Fuse;

public sealed class DocumentSupportTests
{
    [Fact]
    public void A_page_several_spans_came_from_overtakes_a_lone_span_that_scored_higher()
    {
        // lone.md has one strong span; page.md three slightly weaker ones.
        FusedCandidate[] fused = [Fused(1, "lone.md", 0.80), Fused(2, "page.md", 0.70), Fused(3, "page.md", 0.60), Fused(4, "page.md", 0.50)];

        var rescored = DocumentSupport.Apply(fused, 0.3);

        Assert.Equal([2, 3, 4, 1], rescored.Select(c => (int)c.Key.Id));
        // Each span gains the weight times its document's best two others; the lone span gains nothing.
        Assert.Equal(0.7 + (0.3 * (0.6 + 0.5)), rescored[0].Score, 12);
        Assert.Equal(0.6 + (0.3 * (0.7 + 0.5)), rescored[1].Score, 12);
        Assert.Equal(0.5 + (0.3 * (0.7 + 0.6)), rescored[2].Score, 12);
        Assert.Equal(0.80, rescored[3].Score, 12);
    }

    [Fact]
    public void Only_the_best_two_others_count_and_a_span_below_them_is_supported_by_them()
    {
        FusedCandidate[] fused = [Fused(1, "a.md", 0.9), Fused(2, "a.md", 0.8), Fused(3, "a.md", 0.7), Fused(4, "a.md", 0.1)];

        var byId = DocumentSupport.Apply(fused, 1).ToDictionary(c => c.Key.Id, c => c.Score);

        Assert.Equal(0.9 + 0.8 + 0.7, byId[1], 12);
        Assert.Equal(0.1 + 0.9 + 0.8, byId[4], 12);
    }

    [Fact]
    public void Zero_weight_changes_nothing_and_the_same_path_in_another_corpus_is_another_document()
    {
        FusedCandidate[] fused = [Fused(1, "a.md", 0.9), Fused(2, "b.md", 0.8), Fused(3, "b.md", 0.7, corpus: "other")];
        Assert.Same(fused, DocumentSupport.Apply(fused, 0));
        Assert.Equal([0.9, 0.8, 0.7], DocumentSupport.Apply(fused, 0.3).Select(c => c.Score));
    }

    [Fact]
    public void The_option_parses_is_validated_and_is_off_by_default()
    {
        Assert.Equal(0, new CompilerOptions().DocumentWeight);
        Assert.Equal(0.15, CompilerOptionsParser.Apply(new CompilerOptions(), ["documentWeight=0.15"]).DocumentWeight);
        Assert.Contains("documentWeight", Assert.Throws<ArgumentException>(() => CompilerOptionsParser.Apply(new CompilerOptions(), ["documentWeight=-1"])).Message);
    }

    private static FusedCandidate Fused(long id, string path, double score, string corpus = "docs") =>
        new(new SpanKey(id, corpus, path, (int)id * 10), score, score, (int)id, null, null);
}
