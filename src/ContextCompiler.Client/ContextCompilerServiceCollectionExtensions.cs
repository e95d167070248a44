using ContextCompiler.Client;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="IContextCompilerClient"/>.</summary>
public static class ContextCompilerServiceCollectionExtensions
{
    private const string ApiKeyHeader = "X-Api-Key";

    /// <summary>Registers the client for the service at <paramref name="baseAddress"/> with the tenant key <paramref name="apiKey"/>.</summary>
    /// <returns>The client's builder, to add handlers or set the primary handler.</returns>
    public static IHttpClientBuilder AddContextCompilerClient(this IServiceCollection services, Uri baseAddress, string apiKey) =>
        services.AddContextCompilerClient(options =>
        {
            options.BaseAddress = baseAddress;
            options.ApiKey = apiKey;
        });

    /// <summary>
    /// Registers the client as a typed <see cref="HttpClient"/> of <see cref="IHttpClientFactory"/>, with the standard
    /// resilience handler. Retries include POSTs: the writes that store something (sessions, turns, messages) carry an
    /// <c>Idempotency-Key</c> fixed once per call, so a retry of a write whose response was lost is answered from the
    /// stored response instead of storing twice; the other POSTs (compile, close, recompile) are safe to repeat anyway.
    /// </summary>
    /// <returns>The client's builder, to add handlers or set the primary handler.</returns>
    public static IHttpClientBuilder AddContextCompilerClient(this IServiceCollection services, Action<ContextCompilerClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<ContextCompilerClientOptions>()
            .Configure(configure)
            .Validate(o => o.BaseAddress is { IsAbsoluteUri: true }, "ContextCompilerClientOptions.BaseAddress must be an absolute URI.")
            .ValidateOnStart();

        var builder = services.AddHttpClient<IContextCompilerClient, ContextCompilerClient>((provider, http) =>
        {
            var options = provider.GetRequiredService<IOptions<ContextCompilerClientOptions>>().Value;
            http.BaseAddress = WithTrailingSlash(options.BaseAddress!);
            if (!string.IsNullOrEmpty(options.ApiKey))
            {
                http.DefaultRequestHeaders.Add(ApiKeyHeader, options.ApiKey);
            }

            // The pipeline's total timeout bounds a call, retries included; HttpClient's own 100 s would cut a longer one short.
            http.Timeout = Timeout.InfiniteTimeSpan;
        });

        builder.AddStandardResilienceHandler().Configure((HttpStandardResilienceOptions resilience, IServiceProvider provider) =>
            provider.GetRequiredService<IOptions<ContextCompilerClientOptions>>().Value.ConfigureResilience?.Invoke(resilience));
        return builder;
    }

    // Relative routes replace the last segment of a base without a trailing slash ("…/api" + "v1/x" = "…/v1/x").
    private static Uri WithTrailingSlash(Uri uri) => uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
}
