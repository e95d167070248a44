namespace ContextCompiler.Core.Evaluate;

/// <summary>
/// The outcome of an evaluation: each strategy's ranking measures (null where a set has no ranking, as dialogs) and its
/// working sets' measures at each budget.
/// </summary>
/// <param name="Dataset">The data set's name.</param>
/// <param name="Format">"beir", "squad", "dialogs", "coqa" or "quac".</param>
/// <param name="Queries">Queries (or dialog turns) evaluated.</param>
/// <param name="Default">The strategy written to the run file.</param>
/// <param name="Documents">Artifacts in the evaluated index.</param>
/// <param name="Spans">Spans in the evaluated index.</param>
/// <param name="Notes">How the numbers were produced, in sentences (sampling, skipped queries, what a recall means).</param>
public sealed record EvalReport(
    string Dataset, string Format, int Queries, string Default, IReadOnlyList<int> Budgets, IReadOnlyList<StrategyReport> Strategies,
    int Documents, long Spans, IReadOnlyList<string> Notes);

/// <summary>One strategy's measures.</summary>
/// <param name="Settings">Its compiler option overrides, or how dialog turns formed their retrieval query.</param>
public sealed record StrategyReport(
    string Name, string Settings, double? NdcgAt10, double? RecallAt100, double? MrrAt10, IReadOnlyList<BudgetReport> Budgets);

/// <summary>A strategy's working sets at one budget, averaged over the queries.</summary>
/// <param name="EvidenceRecall">
/// Mean fraction of a query's relevant documents with at least one cited span (dialogs: fraction of turns citing a relevant page).
/// </param>
/// <param name="AnswerRecall">Reading comprehension only: fraction of questions whose answer text is in a cited span of their own paragraph.</param>
/// <param name="Utilization">Mean tokens used over the budget.</param>
/// <param name="Spans">Mean citations per working set.</param>
/// <param name="P50Ms">Median compile (or turn) time, milliseconds; reported, never asserted.</param>
/// <param name="P95Ms">95th percentile compile (or turn) time, milliseconds.</param>
public sealed record BudgetReport(int Budget, double EvidenceRecall, double? AnswerRecall, double Utilization, double Spans, double P50Ms, double P95Ms);

/// <summary>Summary statistics used by reports.</summary>
public static class EvalStatistics
{
    /// <summary>The nearest-rank percentile (<paramref name="p"/> in 0..100) of <paramref name="values"/>; 0 for none.</summary>
    public static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0)
        {
            return 0;
        }

        int rank = (int)Math.Ceiling(p / 100 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    /// <summary>The mean, or 0 for no values.</summary>
    public static double Mean(IReadOnlyCollection<double> values) => values.Count == 0 ? 0 : values.Average();
}
