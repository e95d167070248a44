using ContextCompiler.Client;
using ContextCompiler.Server.Tests;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.AgentFramework.Tests;

/// <summary>
/// The typed client registered as an application registers it, with the in-process server as its primary handler and
/// every response checked against the OpenAPI document (the same setup as the client's own tests).
/// </summary>
internal static class TestServices
{
    public static IServiceCollection AddTestClient(this IServiceCollection services, SharedServer server)
    {
        // Blocks until the server's vectors are complete, so that working sets are stable.
        server.Factory.Client().Dispose();
        services.AddContextCompilerClient(options =>
        {
            options.BaseAddress = server.Factory.Server.BaseAddress;
            options.ApiKey = ServerFactory.AlphaKey;
            options.ConfigureResilience = r =>
            {
                // The first compile loads the embedding model on a busy 2-core machine; the breaker's window must be at least twice the attempt's.
                r.AttemptTimeout.Timeout = TimeSpan.FromMinutes(2);
                r.CircuitBreaker.SamplingDuration = TimeSpan.FromMinutes(5);
                r.TotalRequestTimeout.Timeout = TimeSpan.FromMinutes(5);
            };
        })
        .ConfigurePrimaryHttpMessageHandler(() => server.Factory.Server.CreateHandler())
        .AddHttpMessageHandler(() => new OpenApiContractHandler(server.Factory.Contract));
        return services;
    }

    public static IContextCompilerClient Client(this SharedServer server) =>
        new ServiceCollection().AddTestClient(server).BuildServiceProvider().GetRequiredService<IContextCompilerClient>();

    public static string NewUser() => "user-" + Guid.NewGuid().ToString("N");
}
