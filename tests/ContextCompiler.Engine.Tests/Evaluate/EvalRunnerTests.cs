using ContextCompiler.Core.Evaluate;
using ContextCompiler.Engine.Evaluate;

namespace ContextCompiler.Engine.Tests.Evaluate;

public sealed class EvalRunnerTests : IDisposable
{
    private const double Tolerance = 1e-9;
    private readonly EvalFixtures _fixtures = new();
    private readonly EvalRunner _runner = new(TempIndex.Assets, TempIndex.Embedders);

    public void Dispose() => _fixtures.Dispose();

    [Fact]
    public async Task A_beir_set_is_ranked_with_exact_trec_measures_over_the_judged_queries()
    {
        var dataset = DatasetReader.Read(_fixtures.Beir());

        var outcome = await _runner.RunAsync(dataset, new EvalSettings { Strategies = "bm25", Budgets = [1000] });

        var report = outcome.Report;
        Assert.Equal(("toy", "beir", 2, 4), (report.Dataset, report.Format, report.Queries, report.Documents));
        var bm25 = Assert.Single(report.Strategies);
        // q1: its document first (1.0); q2: its document second behind the all-basalt one (1 / log2 3, reciprocal rank 0.5).
        Assert.Equal((1 + (1 / Math.Log2(3))) / 2, bm25.NdcgAt10!.Value, Tolerance);
        Assert.Equal(1.0, bm25.RecallAt100!.Value, Tolerance);
        Assert.Equal(0.75, bm25.MrrAt10!.Value, Tolerance);
        Assert.Equal(["d2", "d3", "d4"], outcome.Run!["q2"].Select(d => d.DocId));
        Assert.Equal(1.0, Assert.Single(bm25.Budgets).EvidenceRecall, Tolerance);
    }

    [Fact]
    public async Task Queries_outside_the_qrels_or_without_a_relevant_document_are_not_evaluated()
    {
        var dataset = Assert.IsType<RetrievalDataset>(DatasetReader.Read(_fixtures.Beir()));

        Assert.Equal(["q1", "q2"], dataset.Queries.Select(q => q.Id));
        Assert.Equal(1, dataset.SkippedQueries);
        var outcome = await _runner.RunAsync(dataset, new EvalSettings { Strategies = "bm25", Budgets = [500] });
        Assert.Equal(["q1", "q2"], outcome.Run!.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_run_file_reproduces_the_reported_measures()
    {
        var dataset = Assert.IsType<RetrievalDataset>(DatasetReader.Read(_fixtures.Beir()));
        var outcome = await _runner.RunAsync(dataset, new EvalSettings { Budgets = [250] });
        var runFile = _fixtures.Write("toy.run", TrecRun.Format(outcome.Run!, "test"));

        var recomputed = RetrievalMetrics.Evaluate(dataset.Qrels(), TrecRun.Parse(File.ReadAllText(runFile)));

        var reported = outcome.Report.Strategies.Single(s => s.Name == outcome.Report.Default);
        Assert.Equal("default", reported.Name);
        Assert.Equal(reported.NdcgAt10!.Value, recomputed.NdcgAt10, Tolerance);
        Assert.Equal(reported.RecallAt100!.Value, recomputed.RecallAt100, Tolerance);
        Assert.Equal(reported.MrrAt10!.Value, recomputed.MrrAt10, Tolerance);
        Assert.Equal(EvalStrategies.Retrieval.Count, outcome.Report.Strategies.Count);
        Assert.Equal(12, outcome.Report.Strategies.Count);
    }

    [Fact]
    public async Task A_squad_question_counts_when_its_answer_is_cited_from_its_own_paragraph()
    {
        var dataset = Assert.IsType<RetrievalDataset>(DatasetReader.Read(_fixtures.Squad()));
        Assert.Equal(("mini-squad", "squad", 3, 3), (dataset.Name, dataset.Format, dataset.Documents.Count, dataset.Queries.Count));
        Assert.Equal(["Lighthouses/000", "Lighthouses/001", "Bees/000"], dataset.Documents.Select(d => d.Path));
        Assert.Equal(["1882", "in 1882"], dataset.Queries[0].Answers);

        var outcome = await _runner.RunAsync(dataset, new EvalSettings { Strategies = "bm25", Budgets = [1000] });

        // s1 and s2 find their paragraph first and cite their answers; s3's words are only in another paragraph.
        var bm25 = Assert.Single(outcome.Report.Strategies);
        Assert.Equal(2.0 / 3, bm25.NdcgAt10!.Value, Tolerance);
        Assert.Equal(2.0 / 3, bm25.MrrAt10!.Value, Tolerance);
        var budget = Assert.Single(bm25.Budgets);
        Assert.Equal(2.0 / 3, budget.EvidenceRecall, Tolerance);
        Assert.Equal(2.0 / 3, budget.AnswerRecall!.Value, Tolerance);
    }

    [Fact]
    public async Task Dialogs_are_replayed_as_sessions_and_conversational_retrieval_finds_the_follow_up()
    {
        var (file, corpus) = _fixtures.Dialogs();
        var dataset = Assert.IsType<DialogDataset>(DatasetReader.Read(file));
        Assert.Equal(("gadgets", 3), (dataset.Name, dataset.TurnCount));

        var outcome = await _runner.RunAsync(dataset, new EvalSettings { Budgets = [60], CorpusDirectory = corpus });

        var report = outcome.Report;
        Assert.Null(outcome.Run);
        Assert.Equal(("conversational", 3, 3), (report.Default, report.Queries, report.Documents));
        var byName = report.Strategies.ToDictionary(s => s.Name, s => Assert.Single(s.Budgets));
        Assert.All(report.Strategies, s => Assert.Null(s.NdcgAt10));
        // "Does it need batteries?" alone finds the camp lamp; with the earlier message it finds the zebra feeder.
        Assert.Equal(1.0, byName["conversational"].EvidenceRecall, Tolerance);
        Assert.Equal(2.0 / 3, byName["last-message-only"].EvidenceRecall, Tolerance);
        Assert.All(byName.Values, b => Assert.InRange(b.Utilization, 0.01, 1.0));
    }

    [Fact]
    public async Task Options_set_for_dialogs_are_checked_and_reach_the_turns()
    {
        var (file, corpus) = _fixtures.Dialogs();
        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            _runner.RunAsync(DatasetReader.Read(file), new EvalSettings { Set = ["contextWeight=2"], CorpusDirectory = corpus }));
        Assert.Contains("contextWeight", error.Message);

        // Vectors alone with no conversation weight: a follow-up that names nothing finds less than with the defaults.
        var plain = await _runner.RunAsync(DatasetReader.Read(file), new EvalSettings { Strategies = "conversational", Budgets = [1000], CorpusDirectory = corpus });
        var changed = await _runner.RunAsync(DatasetReader.Read(file),
            new EvalSettings { Strategies = "conversational", Budgets = [1000], CorpusDirectory = corpus, Set = ["contextWeight=0", "vectorWeight=0"] });
        Assert.True(changed.Report.Strategies[0].Budgets[0].EvidenceRecall < plain.Report.Strategies[0].Budgets[0].EvidenceRecall);
    }

    [Fact]
    public void Coqa_stories_become_artifacts_and_their_questions_one_dialog()
    {
        var dataset = Assert.IsType<DialogDataset>(DatasetReader.Read(_fixtures.Coqa()));

        Assert.Equal(("mini-coqa", "coqa", "mini-coqa"), (dataset.Name, dataset.Format, dataset.Corpus));
        Assert.Equal(["000-3zotghdk5", "001-3dr23u6we"], dataset.Documents.Select(d => d.Path));
        Assert.Equal("Anna built a red kite.\nShe flew it on the beach.", dataset.Documents[0].Content);
        var first = dataset.Dialogs[0];
        Assert.Equal("3zotghdk5", first.Id);
        Assert.Equal(["What did Anna build?", "Where did she fly it?"], first.Turns.Select(t => t.Message));
        Assert.All(first.Turns, t => Assert.Equal(["mini-coqa/000-3zotghdk5"], t.Relevant));
        Assert.Equal(3, dataset.TurnCount);
    }

    [Fact]
    public void Quac_paragraphs_become_artifacts_and_their_questions_one_dialog()
    {
        var dataset = Assert.IsType<DialogDataset>(DatasetReader.Read(_fixtures.Quac()));

        Assert.Equal(("mini-quac", "quac"), (dataset.Name, dataset.Format));
        var document = Assert.Single(dataset.Documents);
        Assert.Equal("000-Glaciers/000", document.Path);
        var dialog = Assert.Single(dataset.Dialogs);
        Assert.Equal("C_1", dialog.Id);
        Assert.Equal(["What do glaciers carve?", "How?"], dialog.Turns.Select(t => t.Message));
        Assert.All(dialog.Turns, t => Assert.Equal(["mini-quac/000-Glaciers/000"], t.Relevant));
    }

    [Fact]
    public async Task A_coqa_set_is_evaluated_end_to_end_against_its_own_stories()
    {
        var outcome = await _runner.RunAsync(DatasetReader.Read(_fixtures.Coqa()), new EvalSettings { Strategies = "conversational", Budgets = [1000] });

        var report = outcome.Report;
        Assert.Equal((3, 2), (report.Queries, report.Documents));
        // Both short stories fit in 1000 tokens, so every turn cites its own story.
        Assert.Equal(1.0, Assert.Single(Assert.Single(report.Strategies).Budgets).EvidenceRecall, Tolerance);
    }

    [Fact]
    public void A_folder_holding_one_squad_file_names_the_set()
    {
        var file = _fixtures.Squad();
        Assert.Equal("squad", DatasetReader.Read(Path.GetDirectoryName(file)!).Name);
    }

    [Fact]
    public void A_missing_data_set_is_reported_clearly()
    {
        var error = Assert.Throws<DirectoryNotFoundException>(() => DatasetReader.Read(Path.Combine(_fixtures.Root, "no-such-set")));
        Assert.Contains("No data set at", error.Message);
    }
}
