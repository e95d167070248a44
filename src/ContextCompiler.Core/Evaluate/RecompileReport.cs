namespace ContextCompiler.Core.Evaluate;

/// <summary>One stored user turn compiled again, compared with the working set stored for it.</summary>
/// <param name="Sequence">The user message's sequence number in its session.</param>
/// <param name="Query">The user message, compiled again with the retrieval query that was recorded.</param>
/// <param name="StoredBudget">The budget the stored working set was compiled with.</param>
/// <param name="Budget">The budget of the new compile.</param>
/// <param name="TokenDelta">NewTokens − StoredTokens.</param>
/// <param name="Jaccard">Overlap of the cited lines, see <see cref="WorkingSetComparison.Jaccard"/>.</param>
/// <param name="Identical">The new text is byte-identical to the stored one (same context hash).</param>
public sealed record RecompiledTurn(
    long Sequence, string MessageId, string Query, int StoredBudget, int Budget, int StoredTokens, int NewTokens, int TokenDelta,
    int StoredCitations, int NewCitations, IReadOnlyList<CitedRange> Added, IReadOnlyList<CitedRange> Removed, IReadOnlyList<CitedRange> Kept,
    double Jaccard, string StoredContextHash, string NewContextHash, bool Identical)
{
    /// <summary>
    /// Stored citations whose document has changed (<c>changed</c>) or is gone (<c>deleted</c>) since the turn: the stored
    /// text stays what it was, but the source no longer says it. Empty when every cited document is as it was.
    /// </summary>
    public IReadOnlyList<StaleCitation> StaleCitations { get; init; } = [];

    /// <summary>A turn's row from the comparison of its stored and new working sets.</summary>
    public static RecompiledTurn From(long sequence, string messageId, string query, int storedBudget, int budget, int storedCitations, int newCitations, WorkingSetComparison diff) =>
        new(sequence, messageId, query, storedBudget, budget, diff.OldTokens, diff.NewTokens, diff.TokenDelta, storedCitations, newCitations,
            diff.Added, diff.Removed, diff.Kept, diff.Jaccard, diff.OldContextHash, diff.NewContextHash, diff.Identical);
}

/// <summary>A stored citation whose document changed or was deleted after the turn was taken.</summary>
/// <param name="State"><c>changed</c> or <c>deleted</c>.</param>
public sealed record StaleCitation(int N, string Corpus, string Path, int StartLine, int EndLine, string State);

/// <summary>Totals and means over the turns of a recompile. With no turns the means are 1 (Jaccard) and 0 (token delta): nothing differs.</summary>
/// <param name="Added">Citations added, summed over the turns.</param>
/// <param name="Identical">Turns whose new text is byte-identical to the stored one.</param>
public sealed record RecompileSummary(int Turns, double MeanJaccard, int Added, int Removed, int Kept, double MeanTokenDelta, int Identical)
{
    /// <summary>The summary of <paramref name="turns"/>; means rounded to 6 decimals.</summary>
    public static RecompileSummary Of(IReadOnlyList<RecompiledTurn> turns) => turns.Count == 0
        ? new RecompileSummary(0, 1.0, 0, 0, 0, 0.0, 0)
        : new RecompileSummary(
            turns.Count,
            Math.Round(turns.Average(t => t.Jaccard), 6),
            turns.Sum(t => t.Added.Count),
            turns.Sum(t => t.Removed.Count),
            turns.Sum(t => t.Kept.Count),
            Math.Round(turns.Average(t => (double)t.TokenDelta), 6),
            turns.Count(t => t.Identical));
}

/// <summary>A session's stored turns compiled again under other settings; nothing stored is changed.</summary>
/// <param name="Budget">The budget every turn was compiled with, or null when each kept its stored budget.</param>
/// <param name="Overrides">The compiler options applied on top of each turn's recorded configuration, as <c>key=value</c>.</param>
public sealed record RecompileReport(string SessionId, int? Budget, IReadOnlyList<string> Overrides, IReadOnlyList<RecompiledTurn> Turns, RecompileSummary Summary);
