using ContextCompiler.Storage.Sessions;

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

    /// <summary>
    /// Budgets, limits and retrieval-query forming of sessions (configuration section <c>ContextCompiler:Sessions</c>);
    /// <see cref="SessionStoreOptions.MaxBudget"/> also bounds stateless compiles.
    /// </summary>
    public SessionStoreOptions Sessions { get; set; } = new();
}
