using Microsoft.Extensions.Http.Resilience;

namespace ContextCompiler.Client;

/// <summary>Where the service is and how to call it.</summary>
public sealed class ContextCompilerClientOptions
{
    /// <summary>The service's root, such as <c>https://contextc.example/</c>; a path in it is kept (routes are resolved relative to it).</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>The tenant's API key, sent as <c>X-Api-Key</c>; null for a service that has no keys configured.</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Adjusts the standard resilience pipeline (retries, timeouts, circuit breaker). Null keeps its defaults: three retries
    /// with exponential back-off for 5xx, 408, 429 and connection failures, honouring <c>Retry-After</c>; 10 s per attempt, 30 s in all.
    /// </summary>
    public Action<HttpStandardResilienceOptions>? ConfigureResilience { get; set; }
}
