namespace ContextCompiler.Server;

/// <summary>Settings of the HTTP service, bound from the <c>ContextCompiler</c> configuration section.</summary>
public sealed class ServerOptions
{
    /// <summary>The configuration section these options are read from.</summary>
    public const string Section = "ContextCompiler";

    /// <summary>The SQLite file holding the index and the sessions (default data/contextcompiler.db).</summary>
    public string DatabasePath { get; set; } = "data/contextcompiler.db";

    /// <summary>Folder ingested at start when the index is empty; by default corpora/sqlite-docs beside ContextCompiler.sln.</summary>
    public string? CorpusPath { get; set; }

    /// <summary>Ingest <see cref="CorpusPath"/> at start when the index has no artifacts (default true).</summary>
    public bool IngestOnStart { get; set; } = true;

    /// <summary>API key → tenant. Empty means no authentication and a single tenant, "default".</summary>
    public Dictionary<string, string> ApiKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Largest accepted request body in bytes (default 1 MiB).</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest budget any request may ask for (default 100 000 tokens).</summary>
    public int MaxBudget { get; set; } = 100_000;

    /// <summary>Working-set tokens of a turn that names no budget (default 1500).</summary>
    public int DefaultContextBudget { get; set; } = 1500;

    /// <summary>History tokens of a turn that names no budget (default 500).</summary>
    public int DefaultHistoryBudget { get; set; } = 500;

    /// <summary>The working set's share of a total budget (default 0.75).</summary>
    public double DefaultContextShare { get; set; } = 0.75;

    /// <summary>Earlier user messages joined to a turn's retrieval query (default 2).</summary>
    public int RetrievalUserMessages { get; set; } = 2;

    /// <summary>Open sessions per user; null for no limit.</summary>
    public int? MaxOpenSessionsPerUser { get; set; }

    /// <summary>Days after which idle sessions are deleted (at start); null keeps them.</summary>
    public int? RetentionDays { get; set; }
}
