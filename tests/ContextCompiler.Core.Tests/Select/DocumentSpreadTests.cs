using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Fuse;
using ContextCompiler.Core.Retrieve;
using ContextCompiler.Core.Select;

namespace ContextCompiler.Core.Tests.Select;

public sealed class DocumentSpreadTests
{
    // Ranked: three spans of a.md, then b.md, another a.md, c.md, another b.md.
    private static readonly Candidate[] Ranked =
    [
        Span(1, "a.md", 0.9), Span(2, "a.md", 0.8), Span(3, "a.md", 0.7), Span(4, "b.md", 0.6), Span(5, "a.md", 0.5), Span(6, "c.md", 0.4), Span(7, "b.md", 0.3),
    ];

    [Fact]
    public void Past_its_first_spans_a_document_waits_behind_the_others_and_nothing_is_dropped()
    {
        Assert.Equal([1, 4, 6, 2, 3, 5, 7], DocumentSpread.Apply(Ranked, 1).Select(c => (int)c.Key.Id));
        Assert.Equal([1, 2, 4, 6, 7, 3, 5], DocumentSpread.Apply(Ranked, 2).Select(c => (int)c.Key.Id));
    }

    [Fact]
    public void Zero_keeps_the_ranking()
    {
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], DocumentSpread.Apply(Ranked, 0).Select(c => (int)c.Key.Id));
    }

    [Fact]
    public void The_same_path_in_another_corpus_is_another_document()
    {
        Candidate[] ranked = [Span(1, "a.md", 0.9), Span(2, "a.md", 0.8, corpus: "other"), Span(3, "a.md", 0.7)];
        Assert.Equal([1, 2, 3], DocumentSpread.Apply(ranked, 1).Select(c => (int)c.Key.Id));
    }

    [Fact]
    public void The_option_parses_is_validated_and_is_two_by_default()
    {
        Assert.Equal(2, new CompilerOptions().MaxSpansPerDocument);
        Assert.Equal(2, CompilerOptionsParser.Apply(new CompilerOptions(), ["maxSpansPerDocument=2"]).MaxSpansPerDocument);
        Assert.Contains("maxSpansPerDocument", Assert.Throws<ArgumentException>(() => CompilerOptionsParser.Apply(new CompilerOptions(), ["maxSpansPerDocument=-1"])).Message);
        Assert.Contains("maxSpansPerDocument", CompilerOptionsParser.Keys);
    }

    private static Candidate Span(long id, string path, double score, string corpus = "docs")
    {
        var key = new SpanKey(id, corpus, path, (int)id * 10);
        return new Candidate(new FusedCandidate(key, score, score, (int)id, null, null), new SpanRecord(key, (int)id * 10 + 5, "", $"text {id}", 3), null);
    }
}
