using ContextCompiler.Client;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.Server.Tests;

/// <summary>
/// The client as an application registers it, with the in-process server as its primary handler. Handlers the test adds
/// sit between the resilience handler and the server; innermost, every response is checked against the OpenAPI document.
/// The client's own tests and the Agent Framework and Semantic Kernel tests share it.
/// </summary>
public static class TestClients
{
    /// <summary>Registers the typed client against <paramref name="factory"/>'s in-process server.</summary>
    public static IHttpClientBuilder AddTestClient(
        this IServiceCollection services, ServerFactory factory, string apiKey = ServerFactory.AlphaKey, Action<IHttpClientBuilder>? handlers = null,
        Action<Microsoft.Extensions.Http.Resilience.HttpStandardResilienceOptions>? resilience = null)
    {
        var builder = services.AddContextCompilerClient(options =>
        {
            options.BaseAddress = factory.Server.BaseAddress;
            options.ApiKey = apiKey;
            options.ConfigureResilience = r =>
            {
                // Short back-off so retries do not slow the tests; long attempt timeouts because the first compile loads
                // the embedding model on a busy 2-core machine (the breaker's window must be at least twice the attempt's).
                r.Retry.Delay = TimeSpan.FromMilliseconds(20);
                r.AttemptTimeout.Timeout = TimeSpan.FromMinutes(2);
                r.CircuitBreaker.SamplingDuration = TimeSpan.FromMinutes(5);
                r.TotalRequestTimeout.Timeout = TimeSpan.FromMinutes(5);
                resilience?.Invoke(r);
            };
        }).ConfigurePrimaryHttpMessageHandler(() => factory.Server.CreateHandler());
        handlers?.Invoke(builder);
        builder.AddHttpMessageHandler(() => new OpenApiContractHandler(factory.Contract));
        return builder;
    }

    /// <summary>A service provider holding only the typed client registered by <see cref="AddTestClient"/>.</summary>
    public static ServiceProvider Provider(
        ServerFactory factory, string apiKey = ServerFactory.AlphaKey, Action<IHttpClientBuilder>? handlers = null,
        Action<Microsoft.Extensions.Http.Resilience.HttpStandardResilienceOptions>? resilience = null)
    {
        var services = new ServiceCollection();
        services.AddTestClient(factory, apiKey, handlers, resilience);
        return services.BuildServiceProvider();
    }

    /// <summary>A client of the shared server once its vectors are complete, so that working sets are stable.</summary>
    public static IContextCompilerClient Client(this SharedServer server, string apiKey = ServerFactory.AlphaKey)
    {
        server.Factory.Client().Dispose();
        return Provider(server.Factory, apiKey).GetRequiredService<IContextCompilerClient>();
    }
}
