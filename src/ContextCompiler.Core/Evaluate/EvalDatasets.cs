namespace ContextCompiler.Core.Evaluate;

/// <summary>A document of an evaluation corpus, ingested as one plain-text artifact at <paramref name="Path"/>.</summary>
public sealed record EvalDocument(string Path, string Content);

/// <summary>
/// A query with its judgements: relevance grade per document path (grades of 0 or less are judged not relevant) and,
/// for reading-comprehension sets, the accepted answer texts.
/// </summary>
public sealed record EvalQuery(string Id, string Text, IReadOnlyDictionary<string, int> Judgements, IReadOnlyList<string> Answers)
{
    /// <summary>The paths judged relevant (grade above 0), in ordinal order.</summary>
    public IReadOnlyList<string> Relevant { get; } = Judgements.Where(j => j.Value > 0).Select(j => j.Key).Order(StringComparer.Ordinal).ToList();
}

/// <summary>One user message of a dialog and the artifacts (<c>corpus/path</c>) that answer it.</summary>
/// <param name="Assistant">The assistant's reply, posted after the turn when the set has one.</param>
/// <param name="Recalls">The earlier turns (1-based) whose settled facts this turn depends on without naming them; null for none.</param>
public sealed record EvalTurn(string Message, IReadOnlyList<string> Relevant, string? Assistant = null, IReadOnlyList<int>? Recalls = null);

/// <summary>A conversation replayed turn by turn.</summary>
public sealed record EvalDialog(string Id, IReadOnlyList<EvalTurn> Turns);

/// <summary>An evaluation set, read from files by a storage-side reader.</summary>
/// <param name="Name">The data set's name; also the corpus name its documents are ingested under.</param>
/// <param name="Format">"beir", "squad", "dialogs", "coqa" or "quac".</param>
/// <param name="SkippedQueries">Judged queries left out because no judged document is relevant.</param>
public abstract record EvalDataset(string Name, string Format, IReadOnlyList<EvalDocument> Documents, int SkippedQueries);

/// <summary>A ranked-retrieval set (BEIR, or SQuAD with each question's own paragraph as its relevant document).</summary>
public sealed record RetrievalDataset(string Name, string Format, IReadOnlyList<EvalDocument> Documents, IReadOnlyList<EvalQuery> Queries, int SkippedQueries = 0)
    : EvalDataset(Name, Format, Documents, SkippedQueries)
{
    /// <summary>The qrels of the queries, for <see cref="RetrievalMetrics.Evaluate"/>.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Qrels() =>
        Queries.ToDictionary(q => q.Id, q => q.Judgements, StringComparer.Ordinal);
}

/// <summary>
/// Multi-turn dialogs. Without <see cref="EvalDataset.Documents"/> the dialogs refer to a corpus ingested from a folder
/// (<see cref="EvalDataset.Name"/> is then only the set's name); with them, the documents form the corpus named <see cref="Corpus"/>.
/// </summary>
public sealed record DialogDataset(string Name, string Format, IReadOnlyList<EvalDocument> Documents, IReadOnlyList<EvalDialog> Dialogs, string Corpus)
    : EvalDataset(Name, Format, Documents, 0)
{
    /// <summary>Every turn of every dialog.</summary>
    public int TurnCount => Dialogs.Sum(d => d.Turns.Count);
}

/// <summary>Deterministic subsets of evaluation sets.</summary>
public static class EvalSampling
{
    /// <summary>
    /// <paramref name="limit"/> items spread evenly over <paramref name="items"/> (indices ⌊i·n/limit⌋), so a sample of a
    /// set ordered by topic still covers every topic; all items when <paramref name="limit"/> is null or not smaller.
    /// </summary>
    public static IReadOnlyList<T> Spread<T>(IReadOnlyList<T> items, int? limit)
    {
        if (limit is not { } n || n >= items.Count)
        {
            return items;
        }

        if (n < 1)
        {
            throw new ArgumentException($"The limit must be at least 1, not {n}.", nameof(limit));
        }

        return Enumerable.Range(0, n).Select(i => items[(int)((long)i * items.Count / n)]).ToList();
    }
}
