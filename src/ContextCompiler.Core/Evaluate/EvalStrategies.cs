using ContextCompiler.Core.Compile;

namespace ContextCompiler.Core.Evaluate;

/// <summary>
/// A configuration compared in an evaluation: compiler option overrides (<c>key=value</c>, as <c>--set</c> takes them)
/// and, for dialogs, how many earlier user messages join the retrieval query.
/// </summary>
public sealed record EvalStrategy(
    string Name, string Description, IReadOnlyList<string> Overrides, int RetrievalUserMessages = 2, int RetrievalAssistantMessages = 1, bool WeightContext = true)
{
    /// <summary>
    /// The compiler options: the defaults, then <paramref name="shared"/> (the run's <c>--set</c>), then this strategy's
    /// overrides, so a shared setting such as k1 reaches every strategy while each keeps what defines it.
    /// </summary>
    public CompilerOptions Options(IEnumerable<string> shared) =>
        CompilerOptionsParser.Apply(new CompilerOptions(), [.. shared, .. Overrides]);

    /// <summary>The overrides as one line, "defaults" when there are none.</summary>
    public string Settings => Overrides.Count == 0 ? "defaults" : string.Join(" ", Overrides);
}

/// <summary>The strategies an evaluation compares side by side, by name.</summary>
public static class EvalStrategies
{
    /// <summary>Retrieval strategies, then the baseline packings at the same budgets. The first is the default.</summary>
    public static readonly IReadOnlyList<EvalStrategy> Retrieval =
    [
        new("default", "default options: linear fusion of BM25 and vectors, exact packing", []),
        new("bm25", "BM25 alone", ["vectorWeight=0"]),
        new("vector", "vectors alone", ["vectorWeight=1"]),
        new("hybrid-rrf", "reciprocal rank fusion", ["fusion=rrf"]),
        new("hybrid-zscore", "linear fusion of z-scores instead of min-max", ["fusion=zscore"]),
        new("hybrid-mmr", "default fusion, MMR selection (the ranking metrics do not see MMR)", ["mmrLambda=0.7"]),
        // Issue 18's compile settings: each switched off alone, both together (the defaults before it), and the document
        // support it measured but left off. The smaller spans it also chose are an ingest setting: compare --max-tokens 256.
        new("no-spread", "default, without spreading the set across documents first", ["maxSpansPerDocument=0"]),
        new("candidates-40", "default, 40 candidates from each retriever instead of 100", ["candidates=40"]),
        new("before-18", "the compile settings before issue 18: no spreading, 40 candidates", ["maxSpansPerDocument=0", "candidates=40"]),
        new("document-support", "default, with a document's other candidates adding 0.15 of their scores to its spans'", ["documentWeight=0.15"]),
        new("greedy-stop", "default retrieval, packing stops at the first span that does not fit", ["packing=greedy-stop"]),
        new("topk-truncate", "default retrieval, top k spans cut to the budget", ["packing=topk-truncate"]),
    ];

    /// <summary>Dialog strategies: conversational query forming on (the default) and off.</summary>
    public static readonly IReadOnlyList<EvalStrategy> Dialog =
    [
        new("conversational", "the message, with the 2 previous user messages and the assistant's last reply as context weighted below it", []),
        new("user-history", "the message joined with the 2 previous user messages into one query (the behaviour before weighting)", [],
            RetrievalAssistantMessages: 0, WeightContext: false),
        new("last-message-only", "retrieval query = the message alone", [], RetrievalUserMessages: 0, RetrievalAssistantMessages: 0),
    ];

    /// <summary>The budgets evaluated when none are given.</summary>
    public static readonly IReadOnlyList<int> DefaultBudgets = [250, 500, 1000, 2000, 4000];

    /// <summary>
    /// The strategies of <paramref name="available"/> named in <paramref name="names"/> (comma-separated), in the
    /// order of <paramref name="available"/>; all of them when <paramref name="names"/> is blank.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown name.</exception>
    public static IReadOnlyList<EvalStrategy> Select(IReadOnlyList<EvalStrategy> available, string? names)
    {
        if (string.IsNullOrWhiteSpace(names))
        {
            return available;
        }

        var wanted = names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        var unknown = wanted.Where(n => available.All(s => s.Name != n)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Unknown strategy '{string.Join("', '", unknown)}' for this data set; known: {string.Join(", ", available.Select(s => s.Name))}.");
        }

        return available.Where(s => wanted.Contains(s.Name)).ToList();
    }

    /// <summary>Parses "250,500,1000": positive, distinct, returned in ascending order.</summary>
    /// <exception cref="ArgumentException">A value that is not a positive integer.</exception>
    public static IReadOnlyList<int> ParseBudgets(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return DefaultBudgets;
        }

        var budgets = new SortedSet<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int budget) || budget < 1)
            {
                throw new ArgumentException($"Budgets must be positive integers separated by commas; '{part}' is not.");
            }

            budgets.Add(budget);
        }

        return budgets.Count > 0 ? budgets.ToList() : throw new ArgumentException("Give at least one budget.");
    }
}
