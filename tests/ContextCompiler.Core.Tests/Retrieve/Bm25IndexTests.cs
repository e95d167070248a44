using ContextCompiler.Core.Retrieve;

namespace ContextCompiler.Core.Tests.Retrieve;

public sealed class Bm25IndexTests
{
    private static readonly Bm25Document[] Documents =
    [
        new(new SpanKey(10, "docs", "wal.md", 1), "wal md", "Write-Ahead Logging", "The WAL journal mode lets readers continue while a writer appends to the log."),
        new(new SpanKey(11, "docs", "lock.md", 1), "lock md", "File locking protocol", "Readers take a shared lock; a writer needs an exclusive lock on the database file."),
        new(new SpanKey(12, "docs", "vacuum.md", 1), "vacuum md", "VACUUM", "VACUUM rebuilds the database file, repacking it into a minimal amount of disk space."),
        new(new SpanKey(13, "other", "wal.md", 1), "wal md", "Write-Ahead Logging", "The WAL journal mode lets readers continue while a writer appends to the log."),
    ];

    private static IReadOnlyList<RankedSpan> Search(string query, RetrievalFilter? filter = null, LexicalWeights? weights = null) =>
        Bm25Index.Build(Documents).Search(Bm25Index.QueryTerms(query), filter ?? new RetrievalFilter(), 10, weights ?? new LexicalWeights(), new Bm25Parameters());

    [Fact]
    public void Stemmed_query_terms_find_inflected_words()
    {
        var hits = Search("repacked databases");
        Assert.Equal("vacuum.md", hits[0].Key.Path);
    }

    [Fact]
    public void Equal_scores_are_ordered_by_corpus_path_and_line_not_by_id()
    {
        var hits = Search("journal mode");
        Assert.Equal([("docs", "wal.md"), ("other", "wal.md")], hits.Select(h => (h.Key.Corpus, h.Key.Path)));
        Assert.Equal(hits[0].Score, hits[1].Score);
    }

    [Fact]
    public void Filters_apply_before_the_limit()
    {
        var hits = Search("journal mode readers", new RetrievalFilter(Corpus: "other"));
        Assert.All(hits, h => Assert.Equal("other", h.Key.Corpus));
        Assert.NotEmpty(hits);
    }

    [Fact]
    public void Readable_corpora_score_as_if_the_others_were_not_indexed()
    {
        // Another tenant's spans share the words: with them counted, idf and the average length would move.
        Bm25Document[] others =
        [
            new(new SpanKey(20, "beta/x", "a.md", 1), "a md", "journal", "journal journal mode readers readers writer log log log log log log"),
            new(new SpanKey(21, "beta/x", "b.md", 1), "b md", "", "journal mode"),
        ];
        var readable = new HashSet<string>(StringComparer.Ordinal) { "docs", "other" };
        foreach (var parameters in new[] { new Bm25Parameters(), new Bm25Parameters(FeedbackDocs: 2, FeedbackTerms: 5) })
        {
            var alone = Bm25Index.Build(Documents).Search(Bm25Index.QueryTerms("journal readers log"), new RetrievalFilter(Corpora: readable), 10, new LexicalWeights(), parameters);
            var mixed = Bm25Index.Build([.. Documents, .. others]).Search(Bm25Index.QueryTerms("journal readers log"), new RetrievalFilter(Corpora: readable), 10, new LexicalWeights(), parameters);
            Assert.NotEmpty(alone);
            Assert.Equal(alone, mixed);
        }

        // Every corpus readable (or no restriction): the statistics are the whole index's, as before.
        var everything = Bm25Index.Build([.. Documents, .. others]);
        Assert.Equal(
            everything.Search(Bm25Index.QueryTerms("journal"), new RetrievalFilter(), 10, new LexicalWeights(), new Bm25Parameters()),
            everything.Search(Bm25Index.QueryTerms("journal"), new RetrievalFilter(Corpora: new HashSet<string> { "docs", "other", "beta/x" }), 10, new LexicalWeights(), new Bm25Parameters()));
    }

    [Fact]
    public void A_heading_weight_of_zero_ignores_heading_matches()
    {
        Assert.NotEmpty(Search("protocol"));
        Assert.Empty(Search("protocol", weights: new LexicalWeights(Title: 0, Heading: 0, Body: 1)));
    }

    [Fact]
    public void Stop_words_alone_match_nothing()
    {
        Assert.Empty(Search("the of and to"));
    }

    [Fact]
    public void Pseudo_relevance_feedback_finds_a_span_that_shares_only_the_feedback_terms()
    {
        Bm25Document[] documents =
        [
            new(new SpanKey(1, "c", "a.md", 1), "", "", "checkpoint wal frames copied back"),
            new(new SpanKey(2, "c", "b.md", 1), "", "", "checkpoint wal frames database"),
            new(new SpanKey(3, "c", "c.md", 1), "", "", "frames copied back into the database file"),
            new(new SpanKey(4, "c", "d.md", 1), "", "", "unrelated vacuum text"),
        ];
        var index = Bm25Index.Build(documents);
        var terms = Bm25Index.QueryTerms("checkpoint wal");
        var plain = index.Search(terms, new RetrievalFilter(), 10, new LexicalWeights(), new Bm25Parameters());
        var expanded = index.Search(terms, new RetrievalFilter(), 10, new LexicalWeights(), new Bm25Parameters(FeedbackDocs: 2, FeedbackTerms: 3));

        Assert.DoesNotContain(plain, h => h.Key.Path == "c.md");
        Assert.Contains(expanded, h => h.Key.Path == "c.md");
        Assert.DoesNotContain(expanded, h => h.Key.Path == "d.md");
        Assert.Equal(["a.md", "b.md"], expanded.Take(2).Select(h => h.Key.Path).Order());
    }

    [Theory]
    [InlineData("caresses", "caress")]
    [InlineData("ponies", "poni")]
    [InlineData("relational", "relat")]
    [InlineData("hopping", "hop")]
    [InlineData("filing", "file")]
    [InlineData("generalization", "gener")]
    [InlineData("checkpointing", "checkpoint")]
    [InlineData("adoption", "adopt")]
    [InlineData("controlling", "control")]
    [InlineData("sqlite3", "sqlite3")]
    public void The_porter_stemmer_gives_the_published_stems(string word, string stem) =>
        Assert.Equal(stem, PorterStemmer.Stem(word));
}
