using ContextCompiler.Engine;
using ContextCompiler.Engine.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ContextCompiler.Server;

/// <summary>Service registration and the middleware pipeline, kept here so that <see cref="ServerApp"/> stays short.</summary>
public static class ServiceRegistration
{
    /// <summary>Registers options, the index, the compiler, the session store, JSON, OpenAPI, error handling, health checks and telemetry.</summary>
    public static IServiceCollection AddContextCompilerServices(this IServiceCollection services, IConfiguration configuration, Action<ServerOptions>? configure)
    {
        // First: hosted services start in the order they are registered, and the start-up ingest must already be traced.
        services.AddContextCompilerTelemetry(configuration);
        // A store that does not exist is refused before anything starts, with the reason and no host start-up trace.
        _ = Engine.Stores.StoreProviders.Resolve(configuration[$"{ServerOptions.Section}:Storage:Provider"]);
        var options = services.AddOptions<ServerOptions>().Bind(configuration.GetSection(ServerOptions.Section));
        if (configure is not null)
        {
            options.PostConfigure(configure);
        }

        services.AddOptions<KestrelServerOptions>().Configure<IOptions<ServerOptions>>((kestrel, server) => kestrel.Limits.MaxRequestBodySize = server.Value.MaxRequestBodyBytes);
        // Malformed JSON and unbindable parameters throw, so the one exception handler turns them into problem details too.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(o => SessionJson.Configure(o.SerializerOptions));
        // Registered before AddProblemDetails so that it is the writer chosen, whatever the client accepts.
        services.AddSingleton<IProblemDetailsWriter, ProblemJsonWriter>();
        services.AddProblemDetails(o => o.CustomizeProblemDetails = context => context.ProblemDetails.Detail ??= context.ProblemDetails.Title);
        services.AddExceptionHandler<ProblemMapping>();
        services.AddSingleton<ApiKeyRing>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorization();
        services.AddTenantRateLimiting();
        services.AddOpenApi(o => o.AddSchemaTransformer<OpenApiSchemaRules>());

        services.AddContextCompiler(sp => sp.GetRequiredService<IOptions<ServerOptions>>().Value);
        // A summariser model only when one is configured: without it, compaction summaries are extractive. A host (or a
        // test) may register its own chat client under the key instead.
        var summarizer = configuration.GetSection($"{ServerOptions.Section}:Summarizer");
        if (!string.IsNullOrWhiteSpace(summarizer["Endpoint"]))
        {
            var model = ChatModels.OpenAiCompatible(summarizer["Endpoint"], summarizer["Model"], summarizer["ApiKeyVariable"] ?? new SummarizerOptions().ApiKeyVariable,
                $"{ServerOptions.Section}:Summarizer:Endpoint", $"{ServerOptions.Section}:Summarizer:Model", $"{ServerOptions.Section}:Summarizer:ApiKeyVariable");
            services.TryAddKeyedSingleton(ContextCompilerServiceCollectionExtensions.SummarizerKey, model);
        }

        services.AddSingleton<Endpoints.KeyedLocks>();
        services.AddSingleton<StartupTasks>();
        services.AddHostedService(sp => sp.GetRequiredService<StartupTasks>());
        services.AddContextCompilerHealthChecks();
        // After StartupTasks, which has indexed the text by then: vectors fill in while the service already answers.
        services.AddSingleton<VectorFiller>();
        services.AddHostedService(sp => sp.GetRequiredService<VectorFiller>());
        return services;
    }

    /// <summary>Error counting, errors as problem details, then the body-size limit, then API keys, the tenant's rate limit and authorization.</summary>
    public static WebApplication UseContextCompilerPipeline(this WebApplication app)
    {
        app.UseErrorCounting();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(async (context, next) =>
        {
            // Kestrel enforces MaxRequestBodySize while reading; a declared length over the limit is refused up front,
            // which also covers hosts (such as the test server) that do not enforce the limit themselves.
            // A route may carry its own limit (document uploads); every other route has the service-wide one.
            long limit = context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IRequestSizeLimitMetadata>()?.MaxRequestBodySize
                ?? context.RequestServices.GetRequiredService<IOptions<ServerOptions>>().Value.MaxRequestBodyBytes;
            if (context.Request.ContentLength > limit)
            {
                throw new Microsoft.AspNetCore.Http.BadHttpRequestException($"The request body is larger than the {limit} bytes allowed.", StatusCodes.Status413PayloadTooLarge);
            }

            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
            {
                feature.MaxRequestBodySize = limit;
            }

            await next(context);
        });
        app.UseContentTypeCharsetCheck();
        app.UseAuthentication();
        app.UseTenantTagging();
        // The web pages under /ui: their sign-in cookie, and a 401 with the sign-in form when there is neither key nor cookie.
        Ui.UiSetup.UseContextCompilerUiAuthentication(app);
        app.UseRateLimiter();
        app.UseAuthorization();
        // Checks the antiforgery token of the pages' forms; the /v1 routes take no forms, so it leaves them alone.
        app.UseAntiforgery();
        return app;
    }
}
