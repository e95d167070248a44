using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using ContextCompiler.Core.Evaluate;
using ContextCompiler.Engine.Assets;
using ContextCompiler.Engine.Evaluate;

namespace ContextCompiler.Cli.Commands;

/// <summary>
/// <c>contextc eval --dataset DIR [--budgets 250,500,...] [--strategies a,b] [--run FILE] [--out DIR] [--json] [--limit N]
/// [--set key=value] [--corpus-dir DIR]</c>: retrieval and working-set benchmarks on BEIR, SQuAD and dialog sets, in a
/// temporary store of the kind <c>--provider</c> names (SQLite: a file in a temporary folder; PostgreSQL: a schema of its
/// own in the <c>--connection-string</c> database), removed afterwards.
/// </summary>
internal static class EvalCommand
{
    private static readonly JsonSerializerOptions ReportJson = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static Command Create()
    {
        var dataset = new Option<string>("--dataset") { Description = "A BEIR folder, a SQuAD v1.1 file, dialog JSON lines, or a CoQA/QuAC-style file.", Required = true };
        var budgets = new Option<string?>("--budgets") { Description = "Working-set budgets (default 250,500,1000,2000,4000)." };
        var strategies = new Option<string?>("--strategies") { Description = "Strategies to compare (default all): bm25, vector, hybrid-rrf, hybrid-mmr, default, greedy-stop, topk-truncate; dialogs: conversational, last-message-only." };
        var run = new Option<string?>("--run") { Description = "Write the default strategy's ranking as a TREC run file." };
        var output = new Option<string?>("--out") { Description = "Write report.json, report.md and recall-vs-budget.svg to this folder." };
        var json = CliShared.JsonOption("Print the report as JSON.");
        var limit = new Option<int?>("--limit") { Description = "Evaluate only N queries (or dialogs), spread evenly over the set." };
        var split = new Option<string>("--split")
        {
            Description = "BEIR judgements to evaluate: qrels/SPLIT.tsv (default test; tune on train, never on test).",
            DefaultValueFactory = _ => "test",
        };
        var maxTokens = new Option<int?>("--max-tokens")
        {
            Description = "Largest span when ingesting the evaluated corpus (default 512 for BEIR abstracts, chosen on SciFact train; the product default, 64, otherwise).",
        };
        var set = new Option<string[]>("--set") { Description = "A compiler option for every strategy: key=value (e.g. k1=1.2, b=0.75, titleWeight, headingWeight, bodyWeight)." };
        var model = CliShared.ModelOption();
        var corpusDir = new Option<string?>("--corpus-dir") { Description = "The corpus folder of dialog JSON lines (default corpora/sqlite-docs of the repository)." };
        var historyBudget = new Option<int?>("--history-budget") { Description = "Dialogs: history tokens of each turn (default 100)." };
        var compaction = new Option<string?>("--compaction")
        {
            Description = "Dialogs: off (default), extractive, or model (a scripted stand-in for a chat model) compaction of the history.",
        };
        var threshold = new Option<int?>("--compaction-threshold") { Description = "Dialogs: evicted messages that trigger a compaction (default: the service's)." };
        var summaryShare = new Option<double?>("--summary-share") { Description = "Dialogs: the summary's share of the history budget (default: the service's)." };
        var noRetrievalSummary = new Option<bool>("--no-retrieval-summary") { Description = "Dialogs: keep the summary out of the retrieval context." };

        var command = new Command("eval", "Benchmark retrieval and working sets at several budgets on a public data set.")
        {
            dataset, budgets, strategies, run, output, json, limit, set, corpusDir, split, maxTokens, model, historyBudget, compaction, threshold, summaryShare, noRetrievalSummary,
        };
        command.SetAction((result, cancellation) => CliShared.Run(async () =>
        {
            var clock = Stopwatch.StartNew();
            var data = DatasetReader.Read(result.GetValue(dataset)!, result.GetValue(split)!);
            var runFile = result.GetValue(run);
            if (runFile is not null && data is not RetrievalDataset)
            {
                throw new ArgumentException("--run needs a ranked-retrieval set (BEIR or SQuAD); dialogs have no document ranking.");
            }

            var settings = new EvalSettings
            {
                Budgets = EvalStrategies.ParseBudgets(result.GetValue(budgets)),
                Strategies = result.GetValue(strategies),
                Set = result.GetValue(set) ?? [],
                Limit = result.GetValue(limit),
                CorpusDirectory = result.GetValue(corpusDir) ?? Engine.Assets.RepositoryLayout.DefaultCorpus(),
                Chunking = new Core.Ingest.ChunkingOptions { MaxTokens = result.GetValue(maxTokens) ?? (data.Format == "beir" ? 512 : new Core.Ingest.ChunkingOptions().MaxTokens) },
                EmbeddingModel = result.GetValue(model) ?? Engine.Embedding.EmbedderCatalog.DefaultModel,
                HistoryBudget = result.GetValue(historyBudget) ?? new EvalSettings().HistoryBudget,
                Compaction = result.GetValue(compaction) ?? "off",
                CompactionThreshold = result.GetValue(threshold),
                SummaryShare = result.GetValue(summaryShare),
                RetrievalSummary = !result.GetValue(noRetrievalSummary),
            };
            await Console.Error.WriteLineAsync($"eval: {data.Name} ({data.Format}), {data.Documents.Count} documents, budgets {string.Join(",", settings.Budgets)}");
            using var catalog = new Engine.Embedding.EmbedderCatalog(OfflineAssets.Default, EmbeddingCachePath());
            var outcome = await new EvalRunner(OfflineAssets.Default, catalog, CliShared.Storage).RunAsync(data, settings, new LineProgress(), cancellation);
            var report = outcome.Report;

            if (runFile is not null && outcome.Run is { } ranking)
            {
                await File.WriteAllTextAsync(runFile, TrecRun.Format(ranking, $"contextc-{report.Default}"), cancellation);
            }

            var body = JsonSerializer.Serialize(Project(report), ReportJson) + "\n";
            if (result.GetValue(output) is { } folder)
            {
                Directory.CreateDirectory(folder);
                await File.WriteAllTextAsync(Path.Combine(folder, "report.json"), body, cancellation);
                await File.WriteAllTextAsync(Path.Combine(folder, "report.md"), MarkdownReport.Render(report), cancellation);
                var label = data is DialogDataset ? "answer recall (turns citing a relevant page)" : "evidence recall";
                await File.WriteAllTextAsync(Path.Combine(folder, "recall-vs-budget.svg"), RecallPlot.Render(report, label), cancellation);
                if (data.Format == "squad")
                {
                    await File.WriteAllTextAsync(Path.Combine(folder, "answer-recall-vs-budget.svg"), RecallPlot.Render(report, "answer-span recall", b => b.AnswerRecall), cancellation);
                }
            }

            if (result.GetValue(json))
            {
                Console.Write(body);
            }
            else
            {
                Console.Write(MarkdownReport.Render(report));
            }

            await Console.Error.WriteLineAsync($"eval: done in {clock.Elapsed.TotalSeconds:F1} s");
            return 0;
        }));
        return command;
    }

    // The documented JSON shape; metrics that do not apply are null, not left out.
    private static object Project(EvalReport report) => new
    {
        dataset = report.Dataset,
        format = report.Format,
        queries = report.Queries,
        @default = report.Default,
        documents = report.Documents,
        spans = report.Spans,
        notes = report.Notes,
        strategies = report.Strategies.Select(s => new
        {
            name = s.Name,
            settings = s.Settings,
            ndcgAt10 = Round(s.NdcgAt10),
            recallAt100 = Round(s.RecallAt100),
            mrrAt10 = Round(s.MrrAt10),
            budgets = s.Budgets.Select(b => new
            {
                budget = b.Budget,
                evidenceRecall = Round(b.EvidenceRecall),
                answerRecall = Round(b.AnswerRecall),
                utilization = Round(b.Utilization),
                spans = Round(b.Spans),
                p50Ms = Math.Round(b.P50Ms, 3),
                p95Ms = Math.Round(b.P95Ms, 3),
            }),
        }),
    };

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 6) : null;

    /// <summary>A line on stderr at each tenth of each stage.</summary>
    private sealed class LineProgress : IProgress<EvalProgress>
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private string _stage = string.Empty;
        private int _lastTenth = -1;

        public void Report(EvalProgress value)
        {
            if (value.Stage != _stage)
            {
                (_stage, _lastTenth) = (value.Stage, -1);
            }

            int tenth = value.Total == 0 ? 10 : (int)((long)value.Done * 10 / value.Total);
            if (tenth != _lastTenth)
            {
                _lastTenth = tenth;
                Console.Error.WriteLine($"eval: {value.Stage} {tenth * 10}% ({value.Done}/{value.Total}) at {_clock.Elapsed.TotalSeconds:F0} s");
            }
        }
    }

    // Passage embeddings outlive the temporary index of each run, so a second evaluation of the same set embeds nothing.
    private static string EmbeddingCachePath() =>
        Environment.GetEnvironmentVariable("CONTEXTC_EMBEDDING_CACHE")
        ?? Path.Combine(Engine.Assets.RepositoryLayout.Root() ?? ".", "data", "embedding-cache.db");
}
