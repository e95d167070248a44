using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Evaluate;

namespace ContextCompiler.Core.Tests.Evaluate;

public sealed class WorkingSetDiffTests
{
    private static Citation C(string path, int start, int end, string corpus = "docs") => new(0, corpus, path, start, end, 1.0, 10, false);

    private static WorkingSet Set(int tokens, string hash, params Citation[] citations) =>
        new("q", "q", "text", tokens, 500, tokens / 500.0, citations, new Manifest("o200k_base", "glove", "1", new CompilerOptions(), hash));

    [Fact]
    public void Identical_sets_keep_every_range_with_jaccard_one_and_no_token_delta()
    {
        var set = Set(120, "abc", C("wal.md", 1, 10), C("pragma.md", 40, 44));
        var diff = WorkingSetDiff.Compare(set, set);
        Assert.Empty(diff.Added);
        Assert.Empty(diff.Removed);
        Assert.Equal([new CitedRange("docs", "wal.md", 1, 10), new CitedRange("docs", "pragma.md", 40, 44)], diff.Kept);
        Assert.Equal(1.0, diff.Jaccard);
        Assert.Equal(0, diff.TokenDelta);
        Assert.True(diff.Identical);
    }

    [Fact]
    public void Overlapping_ranges_are_added_and_removed_by_exact_identity_but_share_lines_in_the_jaccard()
    {
        // Lines 1-4 before, 3-6 after: shared {3, 4}, union {1..6}, so 2 / 6.
        var diff = WorkingSetDiff.Compare(Set(100, "old", C("a.md", 1, 4)), Set(80, "new", C("a.md", 3, 6)));
        Assert.Equal([new CitedRange("docs", "a.md", 3, 6)], diff.Added);
        Assert.Equal([new CitedRange("docs", "a.md", 1, 4)], diff.Removed);
        Assert.Empty(diff.Kept);
        Assert.Equal(0.333333, diff.Jaccard);
        Assert.Equal(-20, diff.TokenDelta);
        Assert.Equal(("old", "new"), (diff.OldContextHash, diff.NewContextHash));
        Assert.False(diff.Identical);
    }

    [Fact]
    public void Jaccard_counts_lines_across_several_ranges_and_files()
    {
        // Before: a.md 1-2, b.md 5-5 → {a1, a2, b5}. After: a.md 2-3, b.md 5-6 → {a2, a3, b5, b6}. Shared {a2, b5}; union 5.
        var before = Set(50, "x", C("a.md", 1, 2), C("b.md", 5, 5));
        var after = Set(60, "y", C("a.md", 2, 3), C("b.md", 5, 6), C("a.md", 2, 3));
        var diff = WorkingSetDiff.Compare(before, after);
        Assert.Equal(0.4, diff.Jaccard);
        Assert.Equal([new CitedRange("docs", "a.md", 2, 3), new CitedRange("docs", "b.md", 5, 6)], diff.Added);
        Assert.Equal(2, diff.Removed.Count);
    }

    [Fact]
    public void The_same_path_in_another_corpus_shares_no_lines()
    {
        var diff = WorkingSetDiff.Compare(Set(10, "x", C("a.md", 1, 3, "one")), Set(10, "y", C("a.md", 1, 3, "two")));
        Assert.Equal(0.0, diff.Jaccard);
        Assert.Single(diff.Added);
        Assert.Single(diff.Removed);
    }

    [Fact]
    public void Two_empty_sets_have_jaccard_one()
    {
        var empty = Set(0, "e3b0", []);
        var diff = WorkingSetDiff.Compare(empty, empty);
        Assert.Equal(1.0, diff.Jaccard);
        Assert.Empty(diff.Added);
        Assert.Empty(diff.Removed);
        Assert.Empty(diff.Kept);
        Assert.True(diff.Identical);
    }

    [Fact]
    public void An_empty_set_against_a_cited_one_has_jaccard_zero_and_everything_removed()
    {
        var diff = WorkingSetDiff.Compare(Set(90, "x", C("a.md", 1, 3), C("b.md", 1, 1)), Set(0, "e3b0", []));
        Assert.Equal(0.0, diff.Jaccard);
        Assert.Equal(2, diff.Removed.Count);
        Assert.Equal(-90, diff.TokenDelta);
    }

    [Fact]
    public void The_summary_totals_and_averages_the_turns()
    {
        var same = Set(100, "h", C("a.md", 1, 4));
        var turns = new[]
        {
            RecompiledTurn.From(1, "m1", "q1", 500, 500, 1, 1, WorkingSetDiff.Compare(same, same)),
            RecompiledTurn.From(3, "m3", "q2", 500, 100, 1, 1, WorkingSetDiff.Compare(Set(100, "old", C("a.md", 1, 4)), Set(70, "new", C("a.md", 3, 6)))),
        };
        var summary = RecompileSummary.Of(turns);
        Assert.Equal(new RecompileSummary(2, Math.Round((1.0 + 0.333333) / 2, 6), 1, 1, 1, -15.0, 1), summary);
    }

    [Fact]
    public void The_summary_of_no_turns_reports_nothing_different() =>
        Assert.Equal(new RecompileSummary(0, 1.0, 0, 0, 0, 0.0, 0), RecompileSummary.Of([]));
}
