using ContextCompiler.Client;
using ContextCompiler.Server.Tests;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.SemanticKernel.Tests;

/// <summary>The client as an application registers it, with the in-process server as its primary handler.</summary>
internal static class TestClients
{
    /// <summary>A client of the shared server once its vectors are complete, so that working sets are stable.</summary>
    public static IContextCompilerClient Client(this SharedServer server)
    {
        server.Factory.Client().Dispose();
        var services = new ServiceCollection();
        services.AddContextCompilerClient(options =>
        {
            options.BaseAddress = server.Factory.Server.BaseAddress;
            options.ApiKey = ServerFactory.AlphaKey;
            options.ConfigureResilience = r =>
            {
                // Long attempt timeouts: the first compile loads the embedding model on a busy 2-core machine.
                r.AttemptTimeout.Timeout = TimeSpan.FromMinutes(2);
                r.CircuitBreaker.SamplingDuration = TimeSpan.FromMinutes(5);
                r.TotalRequestTimeout.Timeout = TimeSpan.FromMinutes(5);
            };
        })
        .ConfigurePrimaryHttpMessageHandler(() => server.Factory.Server.CreateHandler())
        .AddHttpMessageHandler(() => new OpenApiContractHandler(server.Factory.Contract));
        return services.BuildServiceProvider().GetRequiredService<IContextCompilerClient>();
    }
}
