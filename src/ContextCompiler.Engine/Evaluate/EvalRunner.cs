using System.Diagnostics;
using System.Text.Json;
using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Evaluate;
using ContextCompiler.Core.Ingest;
using ContextCompiler.Core.Retrieve;
using ContextCompiler.Engine.Assets;
using ContextCompiler.Engine.Embedding;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Ingest;
using ContextCompiler.Engine.Stores;
using ContextCompiler.Engine.Sessions;
using ContextCompiler.Engine.Sessions.Compacting;
using ContextCompiler.Core.Tokenization;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.Engine.Evaluate;

/// <summary>How an evaluation runs.</summary>
public sealed record EvalSettings
{
    /// <summary>Working-set budgets, ascending.</summary>
    public IReadOnlyList<int> Budgets { get; init; } = EvalStrategies.DefaultBudgets;

    /// <summary>Comma-separated strategy names; all of the data set's kind when null.</summary>
    public string? Strategies { get; init; }

    /// <summary><c>key=value</c> compiler options applied to every strategy (before the strategy's own).</summary>
    public IReadOnlyList<string> Set { get; init; } = [];

    /// <summary>Evaluate only this many queries (or dialogs), spread evenly over the set.</summary>
    public int? Limit { get; init; }

    /// <summary>The folder ingested for dialogs that refer to an external corpus.</summary>
    public string? CorpusDirectory { get; init; }

    /// <summary>History tokens of each dialog turn; kept small, since only the working set is measured.</summary>
    public int HistoryBudget { get; init; } = 100;

    /// <summary>
    /// How dialogs compact their history: <c>off</c> (the default, as before compaction existed), <c>extractive</c>, or
    /// <c>model</c> (the chat model given by <see cref="SummaryModel"/>, else <see cref="ScriptedSummaryModel"/>).
    /// </summary>
    public string Compaction { get; init; } = "off";

    /// <summary>Evicted messages that trigger a compaction; null for the service's default.</summary>
    public int? CompactionThreshold { get; init; }

    /// <summary>The summary's share of the history budget; null for the service's default.</summary>
    public double? SummaryShare { get; init; }

    /// <summary>Whether the summary joins the retrieval context (the service's default: true).</summary>
    public bool RetrievalSummary { get; init; } = true;

    /// <summary>The chat model of <c>model</c> compaction; null for the scripted stand-in.</summary>
    public IChatClient? SummaryModel { get; init; }

    /// <summary>Spans retrieved per query to rank documents (enough for 100 documents where possible).</summary>
    public int RankingDepth { get; init; } = 1000;

    /// <summary>How the evaluated corpus is cut into spans.</summary>
    public ChunkingOptions Chunking { get; init; } = new();

    /// <summary>The embedding model of the temporary store (default: the default of new indexes).</summary>
    public string EmbeddingModel { get; init; } = EmbedderCatalog.DefaultModel;
}

/// <summary>Where a run is: a stage ("ingest", "evaluate") and its units done out of the total.</summary>
public sealed record EvalProgress(string Stage, int Done, int Total);

/// <summary>The report, and the default strategy's document ranking for a TREC run file (null for dialogs).</summary>
public sealed record EvalOutcome(EvalReport Report, IReadOnlyDictionary<string, IReadOnlyList<ScoredDocument>>? Run);

/// <summary>
/// Runs an evaluation in a fresh temporary store of the kind <paramref name="storage"/> names (default: SQLite):
/// ingests the set's documents (or the dialogs' corpus folder), then for each strategy ranks documents per query and
/// compiles a working set per query and budget; dialogs are replayed as sessions through
/// <see cref="TurnService.TakeTurnAsync"/>. The temporary store is removed afterwards.
/// </summary>
public sealed class EvalRunner(OfflineAssets assets, EmbedderCatalog embedders, StorageOptions? storage = null)
{
    private const string Tenant = "eval";

    /// <summary>Evaluates <paramref name="dataset"/>.</summary>
    /// <exception cref="ArgumentException">Unknown strategies, invalid options, or options given for dialogs.</exception>
    public async Task<EvalOutcome> RunAsync(EvalDataset dataset, EvalSettings settings, IProgress<EvalProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (settings.Budgets.Count == 0 || settings.Budgets.Any(b => b < 1))
        {
            throw new ArgumentException("Give at least one budget, each at least 1 token.");
        }

        using var workspace = new Workspace(assets, embedders, settings.EmbeddingModel, storage ?? new StorageOptions());
        var outcome = dataset switch
        {
            RetrievalDataset retrieval => await RunRetrievalAsync(workspace, retrieval, settings, progress, cancellationToken),
            DialogDataset dialogs => await RunDialogsAsync(workspace, dialogs, settings, progress, cancellationToken),
            _ => throw new ArgumentException($"Data sets of format '{dataset.Format}' cannot be evaluated."),
        };
        return outcome with { Report = outcome.Report with { Notes = [.. outcome.Report.Notes, $"Store: {workspace.Provider}, a temporary one removed after the run."] } };
    }

    private async Task<EvalOutcome> RunRetrievalAsync(
        Workspace workspace, RetrievalDataset dataset, EvalSettings settings, IProgress<EvalProgress>? progress, CancellationToken cancellationToken)
    {
        var strategies = EvalStrategies.Select(EvalStrategies.Retrieval, settings.Strategies);
        var options = strategies.ToDictionary(s => s.Name, s => s.Options(settings.Set), StringComparer.Ordinal);
        var queries = EvalSampling.Spread(dataset.Queries, settings.Limit);
        var qrels = queries.ToDictionary(q => q.Id, q => q.Judgements, StringComparer.Ordinal);
        var ingest = await workspace.IngestAsync(dataset.Name, dataset.Documents, settings.Chunking, progress, cancellationToken);
        var compiler = workspace.Compiler;
        var filter = new RetrievalFilter(Corpus: dataset.Name);
        var lines = dataset.Format == "squad"
            ? dataset.Documents.ToDictionary(d => d.Path, d => SourceLoader.Normalize(d.Content).Split('\n'), StringComparer.Ordinal)
            : null;

        var rankings = new Dictionary<CompilerOptions, Dictionary<string, IReadOnlyList<ScoredDocument>>>();
        var reports = new List<StrategyReport>();
        var counter = new Counter(progress, "evaluate", strategies.Count * queries.Count * (settings.Budgets.Count + 1));
        foreach (var strategy in strategies)
        {
            var strategyOptions = options[strategy.Name];
            var deep = RankingOptions(strategyOptions, settings.RankingDepth);
            if (!rankings.TryGetValue(deep, out var run))
            {
                run = new Dictionary<string, IReadOnlyList<ScoredDocument>>(StringComparer.Ordinal);
                foreach (var query in queries)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var fused = await compiler.RetrieveAsync(new CompileRequest(query.Text, 1, filter, deep), cancellationToken);
                    run[query.Id] = RetrievalMetrics.DocumentsFromSpans(fused.Select(f => (f.Key.Path, f.Score)));
                    counter.Step();
                }

                rankings[deep] = run;
            }
            else
            {
                counter.Step(queries.Count);
            }

            var scores = RetrievalMetrics.Evaluate(qrels, run);
            var budgets = new List<BudgetReport>();
            foreach (int budget in settings.Budgets)
            {
                var evidence = new List<double>();
                var answers = new List<double>();
                var utilization = new List<double>();
                var spans = new List<double>();
                var latency = new List<double>();
                foreach (var query in queries)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var clock = Stopwatch.StartNew();
                    var set = await compiler.CompileAsync(new CompileRequest(query.Text, budget, filter, strategyOptions), cancellationToken);
                    latency.Add(clock.Elapsed.TotalMilliseconds);
                    var cited = set.Citations.Select(c => c.Path).ToHashSet(StringComparer.Ordinal);
                    evidence.Add((double)query.Relevant.Count(cited.Contains) / query.Relevant.Count);
                    if (lines is not null)
                    {
                        answers.Add(AnswerCited(query, set, lines) ? 1 : 0);
                    }

                    utilization.Add(set.Utilization);
                    spans.Add(set.Citations.Count);
                    counter.Step();
                }

                budgets.Add(new BudgetReport(budget, EvalStatistics.Mean(evidence), lines is null ? null : EvalStatistics.Mean(answers),
                    EvalStatistics.Mean(utilization), EvalStatistics.Mean(spans), EvalStatistics.Percentile(latency, 50), EvalStatistics.Percentile(latency, 95)));
            }

            reports.Add(new StrategyReport(strategy.Name, strategy.Settings, scores.NdcgAt10, scores.RecallAt100, scores.MrrAt10, budgets));
        }

        var notes = new List<string>
        {
            $"Compiler options shared by every strategy (--set): {(settings.Set.Count == 0 ? "none" : string.Join(" ", settings.Set))}.",
            $"Ranking: the top {settings.RankingDepth} spans after fusion; a document scores its best span; documents in trec_eval order (score descending, ties by document id descending).",
            "MMR and packing act after ranking, so hybrid-mmr, greedy-stop and topk-truncate rank as default does; they differ in the working sets.",
            "Evidence recall: mean fraction of a query's relevant documents with at least one cited span in the working set.",
        };
        if (dataset.Format == "beir")
        {
            notes.Insert(0, $"Queries: those judged in the qrels with a relevant document ({dataset.SkippedQueries} judged without one were skipped).");
        }
        else
        {
            notes.Insert(0, "Each paragraph is one artifact; a question's own paragraph is its only relevant document.");
            notes.Add("Answer-span recall: fraction of questions for which a gold answer lies in the cited lines of a citation from the question's own paragraph and in the rendered working set.");
        }

        if (queries.Count < dataset.Queries.Count)
        {
            notes.Add($"A sample of {queries.Count} of {dataset.Queries.Count} queries, spread evenly over the file (--limit {settings.Limit}).");
        }

        string defaultName = strategies[0].Name;
        var report = new EvalReport(dataset.Name, dataset.Format, queries.Count, defaultName, settings.Budgets, reports, ingest.Artifacts, ingest.Spans, notes);
        return new EvalOutcome(report, rankings[RankingOptions(options[defaultName], settings.RankingDepth)]);
    }

    private async Task<EvalOutcome> RunDialogsAsync(
        Workspace workspace, DialogDataset dataset, EvalSettings settings, IProgress<EvalProgress>? progress, CancellationToken cancellationToken)
    {
        // Turns compile with the service's defaults unless --set changes them, for every strategy alike.
        var turnOptions = settings.Set.Count > 0 ? CompilerOptionsParser.Apply(new CompilerOptions(), settings.Set) : null;
        var compaction = settings.Compaction switch
        {
            "off" => new CompactionSettings(CompactionModes.Off),
            "extractive" or "model" => new CompactionSettings(CompactionModes.Auto, settings.CompactionThreshold, settings.SummaryShare).Validate(),
            var other => throw new ArgumentException($"compaction must be off, extractive or model, not '{other}'."),
        };
        var summaryModel = settings.Compaction == "model" ? settings.SummaryModel ?? new ScriptedSummaryModel(workspace.Tokenizer) : null;

        var strategies = EvalStrategies.Select(EvalStrategies.Dialog, settings.Strategies);
        var dialogs = EvalSampling.Spread(dataset.Dialogs, settings.Limit);
        IngestReport ingest;
        if (dataset.Documents.Count > 0)
        {
            ingest = await workspace.IngestAsync(dataset.Corpus, dataset.Documents, settings.Chunking, progress, cancellationToken);
        }
        else
        {
            var folder = settings.CorpusDirectory ?? throw new ArgumentException($"The dialogs of '{dataset.Name}' need their corpus: give --corpus-dir.");
            if (!Directory.Exists(folder))
            {
                throw new DirectoryNotFoundException($"The dialogs' corpus folder '{folder}' does not exist.");
            }

            ingest = await workspace.Ingestor.IngestAsync([folder], new IngestOptions { Chunking = settings.Chunking }, Forward(progress), cancellationToken);
        }

        int turns = dialogs.Sum(d => d.Turns.Count);
        var counter = new Counter(progress, "evaluate", strategies.Count * settings.Budgets.Count * turns);
        var reports = new List<StrategyReport>();
        var positions = new List<string>();
        foreach (var strategy in strategies)
        {
            // Each strategy forms its retrieval queries its own way: an engine of its own over the same index.
            using var engine = workspace.Engine(new SessionStoreOptions
            {
                RetrievalUserMessages = strategy.RetrievalUserMessages,
                RetrievalAssistantMessages = strategy.RetrievalAssistantMessages,
                WeightRetrievalContext = strategy.WeightContext,
                CompilerOptions = turnOptions,
                Compaction = compaction,
                RetrievalSummary = settings.RetrievalSummary,
            }, summaryModel);
            var sessions = engine.GetRequiredService<SessionStore>();
            var turnService = engine.GetRequiredService<TurnService>();
            var budgets = new List<BudgetReport>();
            foreach (int budget in settings.Budgets)
            {
                var found = new List<double>();
                var utilization = new List<double>();
                var spans = new List<double>();
                var latency = new List<double>();
                var byPosition = new SortedDictionary<int, List<double>>();
                var recalling = new List<double>();
                int compactions = 0;
                foreach (var dialog in dialogs)
                {
                    var session = sessions.Create(Tenant, new NewSession(UserId: $"{strategy.Name}-{budget}-{dialog.Id}"));
                    for (int position = 1; position <= dialog.Turns.Count; position++)
                    {
                        var turn = dialog.Turns[position - 1];
                        cancellationToken.ThrowIfCancellationRequested();
                        var clock = Stopwatch.StartNew();
                        var result = await turnService.TakeTurnAsync(Tenant, session.Id, new TurnRequest(turn.Message, new SessionBudgets(budget, settings.HistoryBudget)), cancellationToken: cancellationToken);
                        latency.Add(clock.Elapsed.TotalMilliseconds);
                        var (cited, citations, tokens) = Cited(result.WorkingSet);
                        double hit = turn.Relevant.Any(cited.Contains) ? 1 : 0;
                        found.Add(hit);
                        (byPosition.TryGetValue(position, out var at) ? at : byPosition[position] = []).Add(hit);
                        if (turn.Recalls is { Count: > 0 })
                        {
                            recalling.Add(hit);
                        }

                        compactions += result.Compaction is null ? 0 : 1;
                        utilization.Add((double)tokens / budget);
                        spans.Add(citations);
                        counter.Step();
                        if (turn.Assistant is { } reply)
                        {
                            // The reply is what a chatbot would have said: the next turn may refer to what it named.
                            await sessions.AddMessageAsync(Tenant, session.Id, MessageRoles.Assistant, reply, null, cancellationToken: cancellationToken);
                        }
                    }
                }

                var followUps = byPosition.Where(p => p.Key > 1).SelectMany(p => p.Value).ToList();
                var culture = System.Globalization.CultureInfo.InvariantCulture;
                string perPosition = string.Join(", ", byPosition.Select(p => string.Create(culture, $"{p.Key}: {EvalStatistics.Mean(p.Value):F3} (n={p.Value.Count})")));
                positions.Add(string.Create(culture,
                    $"{strategy.Name} at {budget} tokens: follow-up hit rate {EvalStatistics.Mean(followUps):F3} ({followUps.Count} turns); by turn position {perPosition}"));
                if (recalling.Count > 0)
                {
                    positions.Add(string.Create(culture,
                        $"{strategy.Name} at {budget} tokens: later turns recalling early facts, hit rate {EvalStatistics.Mean(recalling):F3} ({recalling.Count} turns); {compactions} compactions"));
                }

                budgets.Add(new BudgetReport(budget, EvalStatistics.Mean(found), null, EvalStatistics.Mean(utilization), EvalStatistics.Mean(spans),
                    EvalStatistics.Percentile(latency, 50), EvalStatistics.Percentile(latency, 95)));
            }

            reports.Add(new StrategyReport(strategy.Name, strategy.Description, null, null, null, budgets));
        }

        var notes = new List<string>
        {
            $"Each dialog is replayed as a new session through TurnService.TakeTurnAsync, one user message per turn, with contextBudget = the budget and historyBudget = {settings.HistoryBudget}; "
                + "after each turn the set's assistant reply, when it has one, is stored as the assistant message.",
            "Answer recall (the evidence recall column): fraction of turns whose working set cites at least one page labelled relevant for the turn.",
            "Turns compile with the default compiler options; latency is the whole turn (history, compile, store).",
            settings.Compaction switch
            {
                "off" => "Compaction off: messages that leave the history are not summarised.",
                "model" => $"Compaction by a chat model: {(settings.SummaryModel is null ? "the scripted stand-in (ScriptedSummaryModel), since no model runs here; it measures the pipeline, not a model's summaries" : "the configured model")}; "
                    + $"threshold {compaction.Threshold?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "default"}, summary share {compaction.SummaryShare?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "default"}.",
                _ => $"Compaction extractive; threshold {compaction.Threshold?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "default"}, summary share {compaction.SummaryShare?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "default"}; "
                    + $"summary in the retrieval context: {settings.RetrievalSummary}.",
            },
        };
        notes.AddRange(positions);
        if (dialogs.Count < dataset.Dialogs.Count)
        {
            notes.Add($"A sample of {dialogs.Count} of {dataset.Dialogs.Count} dialogs, spread evenly over the file (--limit {settings.Limit}).");
        }

        var report = new EvalReport(dataset.Name, dataset.Format, turns, strategies[0].Name, settings.Budgets, reports, ingest.Artifacts, ingest.Spans, notes);
        return new EvalOutcome(report, null);
    }

    // The options that decide the ranking, at ranking depth; selection and packing settings are reset so that strategies
    // differing only there share one ranking.
    private static CompilerOptions RankingOptions(CompilerOptions options, int depth)
    {
        var defaults = new CompilerOptions();
        return options with
        {
            Candidates = depth,
            MinRelativeScore = defaults.MinRelativeScore,
            MmrLambda = defaults.MmrLambda,
            RedundancyCutoff = defaults.RedundancyCutoff,
            Order = defaults.Order,
            Packing = defaults.Packing,
            TopK = defaults.TopK,
            MaxSpansPerDocument = defaults.MaxSpansPerDocument,
            AllowTruncation = defaults.AllowTruncation,
            MinTruncatedTokens = defaults.MinTruncatedTokens,
        };
    }

    // An answer counts when it lies in the artifact lines of a citation from the question's own paragraph and in the
    // rendered text (a cut-off citation keeps only a prefix of its last line).
    private static bool AnswerCited(EvalQuery query, WorkingSet set, Dictionary<string, string[]> lines)
    {
        foreach (var citation in set.Citations.Where(c => query.Judgements.ContainsKey(c.Path)))
        {
            var content = lines[citation.Path];
            var cited = string.Join("\n", content[(citation.StartLine - 1)..Math.Min(citation.EndLine, content.Length)]);
            if (query.Answers.Any(a => cited.Contains(a, StringComparison.Ordinal) && set.Text.Contains(a, StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    // The stored working set's cited pages (corpus/path), its number of citations and its tokens.
    private static (HashSet<string> Pages, int Citations, int Tokens) Cited(RawJson workingSet)
    {
        using var json = JsonDocument.Parse(workingSet.Json);
        var citations = json.RootElement.GetProperty("citations");
        var pages = citations.EnumerateArray()
            .Select(c => $"{c.GetProperty("corpus").GetString()}/{c.GetProperty("path").GetString()}")
            .ToHashSet(StringComparer.Ordinal);
        return (pages, citations.GetArrayLength(), json.RootElement.GetProperty("tokenCount").GetInt32());
    }

    private static IProgress<IngestProgress>? Forward(IProgress<EvalProgress>? progress) =>
        progress is null ? null : new Relay(p => progress.Report(p.Vectors is { } v ? new EvalProgress("embed", v.Done, v.Total) : new EvalProgress("ingest", p.Done, p.Total)));

    /// <summary>Reports on the calling thread, in order (<see cref="Progress{T}"/> would post to the thread pool).</summary>
    private sealed class Relay(Action<IngestProgress> report) : IProgress<IngestProgress>
    {
        public void Report(IngestProgress value) => report(value);
    }

    /// <summary>Counts units of work and reports each one.</summary>
    private sealed class Counter(IProgress<EvalProgress>? progress, string stage, int total)
    {
        private int _done;

        public void Step(int units = 1)
        {
            _done += units;
            progress?.Report(new EvalProgress(stage, _done, total));
        }
    }

    /// <summary>A fresh temporary store of the runner's kind, removed on dispose.</summary>
    // A temporary store wired by the same composition root as the server and the CLI, sharing the caller's assets and
    // embedding models (and so their caches).
    private sealed class Workspace : IDisposable
    {
        private readonly ITemporaryStore _store;
        private readonly OfflineAssets _assets;
        private readonly EmbedderCatalog _embedders;
        private readonly string _model;
        private readonly ServiceProvider _engine;

        public Workspace(OfflineAssets assets, EmbedderCatalog embedders, string model, StorageOptions storage)
        {
            (_assets, _embedders, _model) = (assets, embedders, model);
            var provider = StoreProviders.Resolve(storage.Provider);
            Provider = provider.Name;
            _store = provider.CreateTemporary(new ContextCompilerOptions { Storage = storage });
            try
            {
                _engine = Engine(new SessionStoreOptions());
                Ingestor = new CorpusIngestor(_engine.GetRequiredService<ISpanIndex>(), _engine.GetRequiredService<ITokenizer>(), _engine.GetRequiredService<IndexEmbedder>().Passages);
            }
            catch
            {
                _store.Dispose();
                throw;
            }
        }

        /// <summary>The name of the kind of store the workspace is.</summary>
        public string Provider { get; }

        public CorpusIngestor Ingestor { get; }

        public WorkingSetCompiler Compiler => _engine.GetRequiredService<WorkingSetCompiler>();

        /// <summary>The service's tokenizer.</summary>
        public ITokenizer Tokenizer => _engine.GetRequiredService<ITokenizer>();

        /// <summary>An engine over the workspace's store whose sessions follow <paramref name="sessions"/>, summarising with <paramref name="summaryModel"/> when given.</summary>
        public ServiceProvider Engine(SessionStoreOptions sessions, IChatClient? summaryModel = null)
        {
            var services = new ServiceCollection().AddSingleton(_assets).AddSingleton(_embedders);
            if (summaryModel is not null)
            {
                services.AddKeyedSingleton(ContextCompilerServiceCollectionExtensions.SummarizerKey, summaryModel);
            }

            return services.AddContextCompiler(new ContextCompilerOptions { Storage = _store.Storage, EmbeddingModel = _model, Sessions = sessions }).BuildServiceProvider();
        }

        public Task<IngestReport> IngestAsync(
            string corpus, IReadOnlyList<EvalDocument> documents, ChunkingOptions chunking, IProgress<EvalProgress>? progress, CancellationToken cancellationToken) =>
            Ingestor.IngestDocumentsAsync(corpus, documents.Select(d => new SourceDocument(d.Path, d.Content, SourceKind.Text)), new IngestOptions { Chunking = chunking },
                Forward(progress), cancellationToken);

        public void Dispose()
        {
            _engine.Dispose();
            _store.Dispose();
        }
    }
}
