using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ContextCompiler.Core.Telemetry;

/// <summary>
/// The service's one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named <see cref="Name"/>, with every
/// instrument it records. Nothing is recorded unless a listener (OpenTelemetry, <c>dotnet-counters</c>, a test's
/// <see cref="MeterListener"/>) subscribes, so the engine, the CLI and the evaluation runner pay almost nothing for it.
/// Attributes carry ids, counts and settings; never message, query or document text, and never keys.
/// </summary>
public static class Instrumentation
{
    /// <summary>The name of the activity source and of the meter.</summary>
    public const string Name = "ContextCompiler";

    private static readonly string? Version = typeof(Instrumentation).Assembly.GetName().Version?.ToString();
    private static readonly List<Func<long>> PendingVectorSources = [];
    private static readonly Lock PendingGate = new();

    /// <summary>Spans of turns, compiles and their stages, embedding batches, ingests, document writes and turn transactions.</summary>
    public static ActivitySource Source { get; } = new(Name, Version);

    /// <summary>The meter of every instrument below.</summary>
    public static Meter Meter { get; } = new(Name, Version);

    /// <summary>Seconds a turn took, from its validation to its stored message.</summary>
    public static Histogram<double> TurnDuration { get; } =
        Meter.CreateHistogram<double>("contextcompiler.turn.duration", "s", "Time to take a turn: history, compile and the stored message.");

    /// <summary>Seconds a compile took, all stages together.</summary>
    public static Histogram<double> CompileDuration { get; } =
        Meter.CreateHistogram<double>("contextcompiler.compile.duration", "s", "Time to compile a working set.");

    /// <summary>Seconds each compile stage took, by <see cref="Tags.Stage"/>.</summary>
    public static Histogram<double> StageDuration { get; } =
        Meter.CreateHistogram<double>("contextcompiler.compile.stage.duration", "s", "Time of each compile stage (retrieve.lexical, retrieve.vector, fuse, select, pack, render).");

    /// <summary>Model input tokens per second of each embedding batch.</summary>
    public static Histogram<double> EmbeddingThroughput { get; } =
        Meter.CreateHistogram<double>("contextcompiler.embedding.throughput", "{token}/s", "Input tokens per second of each embedding batch.");

    /// <summary>Model input tokens embedded.</summary>
    public static Counter<long> EmbeddingTokens { get; } =
        Meter.CreateCounter<long>("contextcompiler.embedding.tokens", "{token}", "Input tokens embedded by the model.");

    /// <summary>Turns taken.</summary>
    public static Counter<long> Turns { get; } = Meter.CreateCounter<long>("contextcompiler.turns", "{turn}", "Turns taken.");

    /// <summary>Working sets compiled (turns' compiles included).</summary>
    public static Counter<long> Compiles { get; } = Meter.CreateCounter<long>("contextcompiler.compiles", "{compile}", "Working sets compiled.");

    /// <summary>Requests answered with an error, by <see cref="Tags.Status"/> and <see cref="Tags.Transport"/>.</summary>
    public static Counter<long> Errors { get; } =
        Meter.CreateCounter<long>("contextcompiler.errors", "{error}", "Requests answered with an error, by status.");

    /// <summary>Embedding cache look-ups answered from the cache, by <see cref="Tags.Cache"/>.</summary>
    public static Counter<long> CacheHits { get; } =
        Meter.CreateCounter<long>("contextcompiler.cache.hits", "{lookup}", "Embedding cache look-ups answered from the cache.");

    /// <summary>Embedding cache look-ups that went to the model, by <see cref="Tags.Cache"/>.</summary>
    public static Counter<long> CacheMisses { get; } =
        Meter.CreateCounter<long>("contextcompiler.cache.misses", "{lookup}", "Embedding cache look-ups that went to the model.");

    // Observed, not pushed: the figure changes as fills progress, and a collector asks for it on its own schedule.
    private static readonly ObservableGauge<long> VectorsPending = Meter.CreateObservableGauge(
        "contextcompiler.vectors.pending", ObservePending, "{span}", "Spans still waiting for their vector.");

    /// <summary>
    /// Reports <paramref name="pending"/> (spans without a vector) through the <c>contextcompiler.vectors.pending</c> gauge
    /// until the returned handle is disposed. A service registers one source; a test process may hold several.
    /// </summary>
    public static IDisposable ObserveVectorsPending(Func<long> pending)
    {
        lock (PendingGate)
        {
            PendingVectorSources.Add(pending);
        }

        return new Registration(() =>
        {
            lock (PendingGate)
            {
                PendingVectorSources.Remove(pending);
            }
        });
    }

    private static IEnumerable<Measurement<long>> ObservePending()
    {
        Func<long>[] sources;
        lock (PendingGate)
        {
            sources = [.. PendingVectorSources];
        }

        return sources.Select(source => new Measurement<long>(source()));
    }

    private sealed class Registration(Action remove) : IDisposable
    {
        private Action? _remove = remove;

        public void Dispose() => Interlocked.Exchange(ref _remove, null)?.Invoke();
    }
}

/// <summary>The attribute names that spans and measurements carry.</summary>
public static class Tags
{
    /// <summary>The tenant a request acts for.</summary>
    public const string Tenant = "contextcompiler.tenant";

    /// <summary>A session's id.</summary>
    public const string Session = "contextcompiler.session.id";

    /// <summary>A corpus name or key.</summary>
    public const string Corpus = "contextcompiler.corpus";

    /// <summary>The token budget of a working set.</summary>
    public const string Budget = "contextcompiler.budget";

    /// <summary>Tokens a working set used.</summary>
    public const string TokensUsed = "contextcompiler.tokens_used";

    /// <summary>The token budget of a turn's history.</summary>
    public const string HistoryBudget = "contextcompiler.history.budget";

    /// <summary>Tokens a turn's history used.</summary>
    public const string HistoryTokens = "contextcompiler.history.tokens";

    /// <summary>Candidates a compile retrieved and fused.</summary>
    public const string Candidates = "contextcompiler.candidates";

    /// <summary>Citations a working set has.</summary>
    public const string Citations = "contextcompiler.citations";

    /// <summary>The encoding counting tokens.</summary>
    public const string Tokenizer = "contextcompiler.tokenizer";

    /// <summary>The lexical retriever a compile used.</summary>
    public const string Lexical = "contextcompiler.lexical";

    /// <summary>A compile stage's name.</summary>
    public const string Stage = "contextcompiler.stage";

    /// <summary>Which embedding cache: <c>query</c> (in memory) or <c>passage</c> (on disk).</summary>
    public const string Cache = "contextcompiler.cache";

    /// <summary>An embedding model's id (the OpenTelemetry GenAI name).</summary>
    public const string Model = "gen_ai.request.model";

    /// <summary>Texts in an embedding batch.</summary>
    public const string Texts = "contextcompiler.embedding.texts";

    /// <summary>Model input tokens of an embedding batch (the OpenTelemetry GenAI name).</summary>
    public const string InputTokens = "gen_ai.usage.input_tokens";

    /// <summary>Files or documents an ingest or write took in.</summary>
    public const string Documents = "contextcompiler.documents";

    /// <summary>Spans written.</summary>
    public const string Spans = "contextcompiler.spans";

    /// <summary>UTF-8 bytes written.</summary>
    public const string Bytes = "contextcompiler.bytes";

    /// <summary>Whether a document write changed what was stored.</summary>
    public const string Changed = "contextcompiler.changed";

    /// <summary>An HTTP status (the OpenTelemetry HTTP name).</summary>
    public const string Status = "http.response.status_code";

    /// <summary>Where a request came in: <c>http</c> (the <c>/v1</c> API and pages) or <c>mcp</c> (a tool call).</summary>
    public const string Transport = "contextcompiler.transport";
}
