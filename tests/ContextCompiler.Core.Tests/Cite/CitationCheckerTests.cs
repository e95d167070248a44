using ContextCompiler.Core.Cite;

namespace ContextCompiler.Core.Tests.Cite;

public sealed class CitationCheckerTests
{
    [Fact]
    public void Markers_are_sorted_into_used_unknown_and_unused()
    {
        var check = CitationChecker.Check("Use WAL mode [1]. It allows concurrent readers [1, 3]. Checkpoints run on their own [7].", [1, 2, 3]);
        Assert.Equal(4, check.Markers);
        Assert.Equal([1, 3], check.Used);
        Assert.Equal([7], check.Unknown);
        Assert.Equal([2], check.Unused);
        Assert.Equal((3, 3, 1.0), (check.Sentences, check.SentencesWithMarker, check.MarkedShare));
    }

    [Fact]
    public void The_share_counts_sentences_with_a_marker()
    {
        var check = CitationChecker.Check("First claim [2].\nSecond claim without one. Third? Yes [2][1]!", [1, 2]);
        Assert.Equal(4, check.Sentences);
        Assert.Equal(2, check.SentencesWithMarker);
        Assert.Equal(0.5, check.MarkedShare);
        Assert.Empty(check.Unknown);
    }

    [Fact]
    public void A_reply_without_markers_uses_nothing_and_years_are_not_markers()
    {
        var check = CitationChecker.Check("SQLite was released in [20000] and again in 2004.", [1]);
        Assert.Equal(0, check.Markers);
        Assert.Empty(check.Used);
        Assert.Equal([1], check.Unused);
        Assert.Equal(0, CitationChecker.Check("", [1]).Sentences);
    }
}
