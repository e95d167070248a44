using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Pack;
using ContextCompiler.Core.Retrieve;
using ContextCompiler.Engine.Ingest;
using FsCheck;
using FsCheck.Fluent;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Engine.Tests.Compile;

public sealed class WorkingSetCompilerTests(SqliteDocsIndex docs) : IClassFixture<SqliteDocsIndex>
{
    private static readonly string[] Questions =
    [
        "How do I turn on write-ahead logging?",
        "what happens when the database is locked and another connection waits",
        "upsert on conflict do update",
        "sqlite3_busy_timeout zero",
        "How are dates stored? Is there a datetime type?",
        "window functions over partition",
        "vacuum into a new file",
        "foreign key constraints are not enforced",
        "FTS5 tokenizer porter",
        "<|endoftext|> 😀 日本語 weird query ''' \"\"\" ***",
    ];

    private static WorkingSet Compile(SqliteDocsIndex docs, string query, int budget, CompilerOptions? options = null, bool explain = false) =>
        // GloVe-SIF answers synchronously, so waiting here blocks nothing; FsCheck properties need a plain function.
        docs.Compiler.CompileAsync(new CompileRequest(query, budget, Options: options, Explain: explain)).GetAwaiter().GetResult();

    [Fact]
    public void Property_the_text_has_exactly_token_count_tokens_and_never_exceeds_the_budget()
    {
        var tokenizer = TempIndex.Assets.Tokenizer();
        var gen = from q in Gen.Elements(Questions)
                  from budget in Gen.Choose(1, 8000)
                  from order in Gen.Elements(WorkingSetOrder.Score, WorkingSetOrder.Document)
                  select (q, budget, order);
        Prop.ForAll(gen.ToArbitrary(), input =>
        {
            var set = Compile(docs, input.q, input.budget, new CompilerOptions { Order = input.order });
            return set.TokenCount <= input.budget
                && tokenizer.CountTokens(set.Text) == set.TokenCount
                && set.Citations.Sum(c => c.Tokens) == set.TokenCount;
        }).QuickCheckThrowOnFailure();
    }

    [Theory]
    [InlineData(250)]
    [InlineData(1000)]
    [InlineData(4000)]
    public void Every_citation_matches_its_file_and_is_rendered_under_its_header(int budget)
    {
        foreach (var question in Questions)
        {
            var set = Compile(docs, question, budget);
            foreach (var citation in set.Citations)
            {
                var lines = File.ReadAllLines(Path.Combine(docs.CorpusFolder, citation.Path));
                var text = string.Join("\n", lines[(citation.StartLine - 1)..citation.EndLine]);
                var header = $"[{citation.N}] {citation.Corpus}/{citation.Path}:L{citation.StartLine}-L{citation.EndLine}\n";
                Assert.Contains(header + text, set.Text);
            }
        }
    }

    [Fact]
    public void Truncated_citations_are_prefixes_of_a_stored_span()
    {
        var truncated = Questions
            .SelectMany(q => new[] { 120, 200, 300, 450 }.Select(b => Compile(docs, q, b)))
            .SelectMany(s => s.Citations.Where(c => c.Truncated))
            .ToList();
        Assert.NotEmpty(truncated);
        var spans = new IndexReader(docs.Index.Store).ExportSpans().ToList();
        Assert.All(truncated, c => Assert.Contains(spans, s =>
            s.Path == c.Path && s.StartLine == c.StartLine && s.EndLine > c.EndLine));
    }

    [Fact]
    public async Task The_same_query_gives_the_same_context_hash_also_after_reingesting_elsewhere()
    {
        var first = Compile(docs, Questions[0], 1000);
        Assert.Equal(first.Manifest.ContextHash, Compile(docs, Questions[0], 1000).Manifest.ContextHash);

        // A second index whose row ids are all shifted by another corpus ingested first.
        using var other = new TempIndex();
        other.Write("zzz.md", "# Unrelated\n\nNothing about journals here.\n");
        await other.Ingestor.IngestAsync([other.Sources], new IngestOptions { Corpus = "aaa-other" });
        await other.Ingestor.IngestAsync([docs.CorpusFolder], new IngestOptions());
        var again = await CompilerFactory.Create(other.Store, TempIndex.Assets.Embedder, TempIndex.Assets)
            .CompileAsync(new CompileRequest(Questions[0], 1000, new RetrievalFilter(Corpus: "sqlite-docs")));

        Assert.Equal(first.Text, again.Text);
        Assert.Equal(first.Manifest.ContextHash, again.Manifest.ContextHash);
    }

    [Fact]
    public void Explain_accounts_for_every_candidate_of_both_retrievers()
    {
        var options = new CompilerOptions { MmrLambda = 0.5 };
        var set = Compile(docs, Questions[1], 600, options, explain: true);
        var explain = Assert.IsType<Explain>(set.Explain);
        var lexical = new InMemoryLexicalIndex(new IndexSnapshotCache(docs.Index.Store))
            .Search(new LexicalRequest(Questions[1], new RetrievalFilter(), options.Candidates, options.LexicalWeights, options.Bm25));
        var found = lexical.Select(h => (h.Key.Path, h.Key.StartLine)).ToHashSet();
        Assert.All(found, f => Assert.Contains(explain.Candidates, c => (c.Path, c.StartLine) == f));
        Assert.All(explain.Candidates, c =>
        {
            Assert.Contains(c.Outcome, new[] { "included", "merged", "dropped" });
            Assert.Equal(c.Outcome == "dropped", c.Reason is not null);
        });
        Assert.Equal(set.Citations.Count, explain.Candidates.Count(c => c.Outcome == "included"));
        Assert.Contains(explain.Candidates, c => c.Reason == "over budget");
        Assert.Contains(explain.Timings, t => t.Stage == "pack");
    }

    [Fact]
    public void A_budget_too_small_for_any_header_gives_an_empty_set_with_a_reason()
    {
        var set = Compile(docs, Questions[0], 5);
        Assert.Empty(set.Citations);
        Assert.Equal(string.Empty, set.Text);
        Assert.Equal(0, set.TokenCount);
        Assert.Contains("too small", set.Reason);
    }

    [Fact]
    public void A_query_matching_nothing_gives_an_empty_set_with_a_reason()
    {
        var set = Compile(docs, "qqqzzzxx", 1000, new CompilerOptions { VectorWeight = 0 });
        Assert.Empty(set.Citations);
        Assert.Equal("no span matched the query", set.Reason);
    }

    [Fact]
    public void Document_order_sorts_by_path_then_line()
    {
        var set = Compile(docs, Questions[0], 2000, new CompilerOptions { Order = WorkingSetOrder.Document });
        var keys = set.Citations.Select(c => (c.Path, c.StartLine)).ToList();
        Assert.Equal(keys.OrderBy(k => k.Path, StringComparer.Ordinal).ThenBy(k => k.StartLine), keys);
        Assert.True(keys.Count > 2);
    }

    [Fact]
    public void Score_order_is_best_first()
    {
        var set = Compile(docs, Questions[2], 2000);
        Assert.Equal(set.Citations.Select(c => c.Score).OrderByDescending(s => s), set.Citations.Select(c => c.Score));
    }

    [Fact]
    public async Task Filters_restrict_retrieval_to_a_path_prefix()
    {
        var set = await docs.Compiler.CompileAsync(new CompileRequest("busy handler timeout", 2000, new RetrievalFilter("sqlite-docs", "c3ref/")));
        Assert.NotEmpty(set.Citations);
        Assert.All(set.Citations, c => Assert.StartsWith("c3ref/", c.Path));
        var none = await docs.Compiler.CompileAsync(new CompileRequest("busy handler timeout", 2000, new RetrievalFilter("no-such-corpus")));
        Assert.Empty(none.Citations);
    }

    [Fact]
    public void Overlapping_or_adjacent_spans_are_merged_and_no_line_is_cited_twice()
    {
        foreach (var question in Questions)
        {
            var set = Compile(docs, question, 4000);
            foreach (var group in set.Citations.GroupBy(c => c.Path))
            {
                var ranges = group.OrderBy(c => c.StartLine).ToList();
                for (int i = 1; i < ranges.Count; i++)
                {
                    Assert.True(ranges[i].StartLine > ranges[i - 1].EndLine + 1, $"{group.Key}: L{ranges[i - 1].StartLine}-L{ranges[i - 1].EndLine} and L{ranges[i].StartLine}-L{ranges[i].EndLine} touch");
                }
            }
        }
    }

    [Fact]
    public void The_manifest_records_tokenizer_model_index_version_and_config()
    {
        var options = new CompilerOptions { VectorWeight = 0.2, MmrLambda = 0.8 };
        var set = Compile(docs, Questions[0], 500, options);
        Assert.Equal("o200k_base", set.Manifest.Tokenizer);
        Assert.Equal(TempIndex.Model.Id, set.Manifest.EmbeddingModel);
        Assert.Contains("schema", set.Manifest.IndexVersion);
        Assert.Equal(options, set.Manifest.Config);
        Assert.Equal(64, set.Manifest.ContextHash.Length);
    }

    [Theory]
    [InlineData("greedy-stop")]
    [InlineData("topk-truncate")]
    public void Baseline_packings_also_stay_within_the_budget_by_exact_count(string packing)
    {
        var tokenizer = TempIndex.Assets.Tokenizer();
        foreach (var budget in new[] { 50, 300, 1000, 3000 })
        {
            var set = Compile(docs, Questions[0], budget, new CompilerOptions { Packing = packing });
            Assert.True(set.TokenCount <= budget);
            Assert.Equal(tokenizer.CountTokens(set.Text), set.TokenCount);
        }
    }

    [Fact]
    public void Greedy_stop_packing_includes_nothing_after_the_first_span_that_does_not_fit()
    {
        // Without spreading, the packer sees the candidates in the explanation's (ranked) order.
        var set = Compile(docs, Questions[1], 600, new CompilerOptions { Packing = "greedy-stop", MaxSpansPerDocument = 0 }, explain: true);
        var fates = set.Explain!.Candidates.Where(c => c.Reason is null or "over budget").Select(c => c.Outcome).ToList();
        int firstDrop = fates.IndexOf("dropped");
        Assert.True(firstDrop >= 0);
        Assert.All(fates.Skip(firstDrop), f => Assert.Equal("dropped", f));
        Assert.True(set.Citations.Count <= Compile(docs, Questions[1], 600).Citations.Count);
    }

    [Fact]
    public void Invalid_requests_are_rejected_with_a_clear_message()
    {
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => Compile(docs, "  ", 100)).Message);
        Assert.Contains("at least 1", Assert.Throws<ArgumentException>(() => Compile(docs, "wal", 0)).Message);
        Assert.Contains("mmrLambda", Assert.Throws<ArgumentException>(() => Compile(docs, "wal", 100, new CompilerOptions { MmrLambda = 2 })).Message);
    }
    [Fact]
    public void The_default_per_document_cap_spreads_the_set_over_more_pages_and_is_recorded_in_the_manifest()
    {
        int wider = 0;
        foreach (var question in Questions.Take(9))
        {
            var ranked = Compile(docs, question, 1500, new CompilerOptions { MaxSpansPerDocument = 0 });
            var spread = Compile(docs, question, 1500);

            int Pages(WorkingSet set) => set.Citations.Select(c => c.Path).Distinct(StringComparer.Ordinal).Count();
            Assert.True(Pages(spread) >= Pages(ranked), $"{question}: {Pages(spread)} pages spread, {Pages(ranked)} ranked");
            Assert.Equal(2, spread.Manifest.Config.MaxSpansPerDocument);
            Assert.True(spread.TokenCount <= 1500);
            wider += Pages(spread) > Pages(ranked) ? 1 : 0;
        }

        // Without the cap (the default's), some sets fill with neighbouring spans of one page; the cap must change those.
        Assert.True(wider > 0);
    }
}
