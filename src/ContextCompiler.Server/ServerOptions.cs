using ContextCompiler.Engine;

namespace ContextCompiler.Server;

/// <summary>
/// Settings of the HTTP service, bound from the <c>ContextCompiler</c> configuration section: the engine's own
/// (<see cref="ContextCompilerOptions"/>: database, embedding model, sessions under <c>ContextCompiler:Sessions</c>) and the server's.
/// </summary>
public sealed class ServerOptions : ContextCompilerOptions
{
    /// <summary>The configuration section these options are read from.</summary>
    public const string Section = "ContextCompiler";

    /// <summary>Folder ingested at start when the index is empty; by default corpora/sqlite-docs beside ContextCompiler.sln.</summary>
    public string? CorpusPath { get; set; }

    /// <summary>Ingest <see cref="CorpusPath"/> at start when the index has no artifacts (default true).</summary>
    public bool IngestOnStart { get; set; } = true;

    /// <summary>API key → tenant. Empty means no authentication and a single tenant, "default".</summary>
    public Dictionary<string, string> ApiKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Largest accepted request body in bytes (default 1 MiB).</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>How long an <c>Idempotency-Key</c> is remembered, with the response it answered (default 24 hours).</summary>
    public TimeSpan IdempotencyKeyLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Per-tenant rate limiting (configuration section <c>ContextCompiler:RateLimit</c>); off unless enabled.</summary>
    public RateLimitOptions RateLimit { get; set; } = new();
}

/// <summary>Per-tenant rate limiting of the <c>/v1</c> API and <c>/mcp</c> (configuration section <c>ContextCompiler:RateLimit</c>). Off by default.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Limit requests per tenant (default false).</summary>
    public bool Enabled { get; set; }

    /// <summary>Requests a tenant may make in one <see cref="Window"/> (default 600).</summary>
    public int PermitsPerWindow { get; set; } = 600;

    /// <summary>The fixed window the permits renew in (default one minute).</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Requests held back to wait for the next window instead of being refused at once (default 0: refuse with 429).</summary>
    public int QueueLimit { get; set; }
}
