using System.Text.Json;

namespace ContextCompiler.Client;

/// <summary>The body of <c>POST /v1/sessions/{id}/replay/recompile</c>.</summary>
/// <param name="Budget">Replaces every turn's stored budget; null keeps each turn's.</param>
/// <param name="Options">Compiler options (keys as for <c>--set</c>) applied on top of each turn's recorded configuration.</param>
public sealed record RecompileRequest(int? Budget = null, IReadOnlyDictionary<string, JsonElement>? Options = null);

/// <summary>A session's stored turns compiled again under other settings and compared with what was stored; nothing is changed.</summary>
/// <param name="Overrides">The options applied, as <c>key=value</c>.</param>
public sealed record RecompileReport(string SessionId, int? Budget, IReadOnlyList<string> Overrides, IReadOnlyList<RecompiledTurn> Turns, RecompileSummary Summary);

/// <summary>One stored user turn compiled again, compared with its stored working set.</summary>
/// <param name="Jaccard">Overlap of the cited lines, 0..1.</param>
/// <param name="Identical">The new text is byte-identical to the stored one (same context hash).</param>
public sealed record RecompiledTurn(
    long Sequence, string MessageId, string Query, int StoredBudget, int Budget, int StoredTokens, int NewTokens, int TokenDelta,
    int StoredCitations, int NewCitations, IReadOnlyList<CitedRange> Added, IReadOnlyList<CitedRange> Removed, IReadOnlyList<CitedRange> Kept,
    double Jaccard, string StoredContextHash, string NewContextHash, bool Identical)
{
    /// <summary>
    /// Stored citations whose document changed or was deleted after the turn: the stored text stays what it was, but the
    /// source no longer says it. Empty when every cited document is as it was (and from servers that do not report it).
    /// </summary>
    public IReadOnlyList<StaleCitation> StaleCitations { get; init; } = [];
}

/// <summary>A stored citation whose document changed or was deleted after its turn was taken.</summary>
/// <param name="N">The citation's number in the stored working set.</param>
/// <param name="Corpus">The corpus key, <c>tenant/name</c> for a tenant's corpus.</param>
/// <param name="State"><c>changed</c> or <c>deleted</c>.</param>
public sealed record StaleCitation(int N, string Corpus, string Path, int StartLine, int EndLine, string State);

/// <summary>The lines a citation covers.</summary>
public sealed record CitedRange(string Corpus, string Path, int StartLine, int EndLine);

/// <summary>Totals and means over the turns of a recompile.</summary>
/// <param name="Identical">Turns whose new text is byte-identical to the stored one.</param>
public sealed record RecompileSummary(int Turns, double MeanJaccard, int Added, int Removed, int Kept, double MeanTokenDelta, int Identical);

/// <summary>The reply of <c>GET /health</c>.</summary>
/// <param name="Vectors">Spans embedded so far: on a fresh index they fill in after the service starts.</param>
public sealed record HealthStatus(string Status, int SchemaVersion, string EmbeddingModel, VectorProgress Vectors);

/// <summary>Spans with vectors out of all spans.</summary>
public sealed record VectorProgress(int Done, int Total, bool Complete);
