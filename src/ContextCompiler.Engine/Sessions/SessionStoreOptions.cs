namespace ContextCompiler.Engine.Sessions;

/// <summary>Limits and defaults of the session store.</summary>
public sealed record SessionStoreOptions
{
    /// <summary>Working-set tokens when neither the request nor the session names any (default 1500).</summary>
    public int DefaultContextBudget { get; init; } = 1500;

    /// <summary>History tokens when neither the request nor the session names any (default 500).</summary>
    public int DefaultHistoryBudget { get; init; } = 500;

    /// <summary>The working set's share of a total budget whose parts are not given (default 0.75).</summary>
    public double DefaultContextShare { get; init; } = 0.75;

    /// <summary>The largest budget any request may ask for (default 100 000 tokens).</summary>
    public int MaxBudget { get; init; } = 100_000;

    /// <summary>How many earlier user messages join a turn's retrieval context (default 2; 0 with no assistant messages retrieves with the message alone).</summary>
    public int RetrievalUserMessages { get; init; } = 2;

    /// <summary>
    /// How many of the assistant's latest replies join the retrieval context (default 1): follow-ups often name their
    /// subject only there ("Use PRAGMA journal_mode=WAL").
    /// </summary>
    public int RetrievalAssistantMessages { get; init; } = 1;

    /// <summary>
    /// Retrieve with the message at full weight and the conversation below it (the compiler's contextWeight), the
    /// default; false joins the earlier user messages and the message into one query, as before.
    /// </summary>
    public bool WeightRetrievalContext { get; init; } = true;

    /// <summary>
    /// Compaction of sessions that set none themselves; null for <see cref="Compacting.CompactionSettings.Defaults"/> (auto,
    /// after 2 evicted messages, a summary of at most 30% of the history budget).
    /// </summary>
    public Compacting.CompactionSettings? Compaction { get; init; }

    /// <summary>Whether the summary in force joins a turn's retrieval context, as one more message of the conversation (default true).</summary>
    public bool RetrievalSummary { get; init; } = true;

    /// <summary>Compiler options of turns; null for the compiler's defaults (evaluations set them to compare settings).</summary>
    public Core.Compile.CompilerOptions? CompilerOptions { get; init; }

    /// <summary>Open sessions one user may have; null for no limit.</summary>
    public int? MaxOpenSessionsPerUser { get; init; }

    /// <summary>Sessions idle this many days are deleted by <see cref="SessionStore.PurgeIdle"/>; null keeps them.</summary>
    public int? RetentionDays { get; init; }

    /// <summary>Longest accepted message content, in characters (default 100 000).</summary>
    public int MaxMessageChars { get; init; } = 100_000;
}
