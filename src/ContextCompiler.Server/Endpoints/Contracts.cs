using System.Text.Json;
using System.Text.Json.Serialization;
using ContextCompiler.Engine.Sessions;
using ContextCompiler.Engine.Sessions.Compacting;

namespace ContextCompiler.Server.Endpoints;

/// <summary>POST /v1/compile. <see cref="Options"/> maps compiler option keys (as for <c>--set</c>) to values.</summary>
/// <see cref="Tokenizer"/> counts the budget in an encoding's or a model's tokens (o200k_base, cl100k_base, gpt-4o, gpt-4, …).
public sealed record CompileBody(string? Query, int? Budget, string? Corpus, string? PathPrefix, Dictionary<string, JsonElement>? Options, bool? Explain, string? Tokenizer = null);

/// <summary>
/// POST /v1/sessions/{id}/replay/recompile. <see cref="Budget"/> replaces every turn's stored budget; <see cref="Options"/>
/// (keys as for <c>--set</c>) are applied on top of each turn's recorded configuration.
/// </summary>
public sealed record RecompileBody(int? Budget, Dictionary<string, JsonElement>? Options);

/// <summary>Turns a JSON object of compiler options into the <c>key=value</c> assignments that <c>CompilerOptionsParser</c> reads.</summary>
public static class OptionAssignments
{
    /// <summary>Each entry as <c>key=value</c>: strings as they are, other values as their JSON text.</summary>
    /// <exception cref="ArgumentException">A string value that is not valid Unicode (a lone surrogate escape or invalid UTF-8).</exception>
    public static IReadOnlyList<string> From(Dictionary<string, JsonElement>? options) =>
        (options ?? []).Select(kv => $"{kv.Key}={Text(kv.Key, kv.Value)}").ToList();

    // JSON lets a string hold "\ud800" or, unchecked until decoded, invalid UTF-8; .NET cannot decode either into a string.
    private static string Text(string key, JsonElement value)
    {
        try
        {
            return value.ValueKind == JsonValueKind.String ? value.GetString() ?? string.Empty : value.GetRawText();
        }
        catch (InvalidOperationException)
        {
            throw new ArgumentException($"options.{key} is not valid Unicode text (a lone surrogate or invalid UTF-8).");
        }
    }
}

/// <summary>
/// POST /v1/sessions. <see cref="Compaction"/> (<c>auto</c> or <c>off</c>), <see cref="CompactionThreshold"/> (evicted
/// messages that trigger a compaction) and <see cref="SummaryShare"/> (the summary's share of the history budget) are the
/// session's compaction settings; each one left out takes the service's.
/// </summary>
public sealed record CreateSessionBody(
    string? UserId, [property: JsonConverter(typeof(VerbatimJsonConverter))] JsonElement? Metadata, SessionBudgets? DefaultBudgets,
    string? Compaction = null, int? CompactionThreshold = null, double? SummaryShare = null) : IIdempotentBody
{
    /// <summary>The compaction settings given, or null for none.</summary>
    public CompactionSettings? CompactionSettings() => Engine.Sessions.Compacting.CompactionSettings.From(Compaction, CompactionThreshold, SummaryShare);
}

/// <summary>
/// POST /v1/sessions/{id}/turns. Give context and history budgets, or a total, or neither for the session's defaults.
/// <see cref="Compaction"/>, <see cref="CompactionThreshold"/> and <see cref="SummaryShare"/> override the session's for this turn.
/// </summary>
public sealed record TurnBody(
    string? Message, int? ContextBudget, int? HistoryBudget, int? TotalBudget, bool? Explain, bool? SkipOversized, string? Tokenizer = null,
    string? Compaction = null, int? CompactionThreshold = null, double? SummaryShare = null) : IIdempotentBody
{
    /// <summary>The compaction settings given, or null for none.</summary>
    public CompactionSettings? CompactionSettings() => Engine.Sessions.Compacting.CompactionSettings.From(Compaction, CompactionThreshold, SummaryShare);
}

/// <summary>POST /v1/sessions/{id}/compact: the history budget to compact for (default: the session's).</summary>
public sealed record CompactBody(int? HistoryBudget);

/// <summary>POST /v1/sessions/{id}/messages.</summary>
public sealed record MessageBody(string? Role, string? Content, [property: JsonConverter(typeof(VerbatimJsonConverter))] JsonElement? Metadata) : IIdempotentBody;

/// <summary>A turn's reply: the stored user message, its working set, the history to send with it, and the token accounting.</summary>
/// <param name="TotalTokens">ContextTokens + HistoryTokens; never above ContextBudget + HistoryBudget.</param>
/// <param name="Usage">The session's context usage with this turn stored (as GET /usage reports it).</param>
/// <param name="Compaction">The compaction this turn made before building its history; null when it made none.</param>
public sealed record TurnResponse(
    Message UserMessage, RawJson WorkingSet, HistoryWindow History, int ContextBudget, int HistoryBudget, int ContextTokens, int HistoryTokens, int TotalTokens,
    SessionUsage Usage, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] Compaction? Compaction)
{
    /// <summary>The reply to a stored turn.</summary>
    public static TurnResponse From(TurnResult turn) =>
        new(turn.UserMessage, turn.WorkingSet, turn.History, turn.ContextBudget, turn.HistoryBudget,
            turn.ContextTokens, turn.History.TokenCount, turn.ContextTokens + turn.History.TokenCount, turn.Usage, turn.Compaction);
}

/// <summary>Problems that a route with a JSON body can answer before its handler runs.</summary>
internal static class JsonBodyProblems
{
    /// <summary>Declares 413 (a body over the size limit) and 415 (a body that is not JSON).</summary>
    public static RouteHandlerBuilder ProducesJsonBodyProblems(this RouteHandlerBuilder route) =>
        route.ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
}

/// <summary>
/// GET /health. <see cref="Vectors"/> counts the spans embedded so far: on a fresh index they fill in after start.
/// <see cref="Process"/> is the serving process's memory, collections, threads and handles, read at the request.
/// </summary>
public sealed record HealthResponse(
    string Status, int SchemaVersion, string EmbeddingModel, ContextCompiler.Engine.Index.VectorProgress Vectors, ProcessFigures Process);

/// <summary>
/// The serving process's own figures, so a soak test or a dashboard can watch memory, threads and handles grow (or not)
/// without access to the host.
/// </summary>
/// <param name="ResidentBytes">Resident set size (<c>Environment.WorkingSet</c>).</param>
/// <param name="GcHeapBytes">The managed heap after the last collection, garbage not yet collected included (<c>GCMemoryInfo.HeapSizeBytes</c>).</param>
/// <param name="GcCommittedBytes">Memory the garbage collector has committed at the last collection (<c>GCMemoryInfo.TotalCommittedBytes</c>).</param>
/// <param name="GcCollections">Collections so far of generations 0, 1 and 2; a gen-1 collection also counts as gen 0, a gen-2 as both.</param>
/// <param name="Threads">Operating-system threads of the process, every kind (<c>Process.Threads</c>).</param>
/// <param name="ThreadPoolThreads">Of those, the .NET thread pool's (<c>ThreadPool.ThreadCount</c>).</param>
/// <param name="Handles">Open handles (<c>Process.HandleCount</c>; on Linux the open file descriptors, sockets included).</param>
public sealed record ProcessFigures(
    long ResidentBytes, long GcHeapBytes, long GcCommittedBytes, IReadOnlyList<int> GcCollections, int Threads, int ThreadPoolThreads, int Handles)
{
    /// <summary>The figures of this process now.</summary>
    public static ProcessFigures Read()
    {
        var gc = GC.GetGCMemoryInfo();
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return new(Environment.WorkingSet, gc.HeapSizeBytes, gc.TotalCommittedBytes,
            [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)], process.Threads.Count, ThreadPool.ThreadCount, process.HandleCount);
    }
}

/// <summary>A probe's answer: <c>Healthy</c> or <c>Unhealthy</c>, each check's outcome, and (readiness only) vector progress.</summary>
public sealed record ProbeResponse(string Status, IReadOnlyList<ProbeCheck> Checks, ContextCompiler.Engine.Index.VectorProgress? Vectors);

/// <summary>One health check's outcome and how long it took.</summary>
public sealed record ProbeCheck(string Name, string Status, string? Description, double DurationMs);
