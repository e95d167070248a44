using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Embedding;
using ContextCompiler.Core.Tokenization;
using ContextCompiler.Storage.Assets;
using ContextCompiler.Storage.Embedding;
using ContextCompiler.Storage.Index;
using ContextCompiler.Storage.Retrieve;
using ContextCompiler.Storage.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace ContextCompiler.Server;

/// <summary>Service registration and the middleware pipeline, kept here so that <see cref="ServerApp"/> stays short.</summary>
public static class ServiceRegistration
{
    /// <summary>Registers options, the index, the compiler, the session store, JSON, OpenAPI and error handling.</summary>
    public static IServiceCollection AddContextCompilerServices(this IServiceCollection services, IConfiguration configuration, Action<ServerOptions>? configure)
    {
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

        services.AddSingleton(_ => OfflineAssets.Default);
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<ServerOptions>>().Value;
            var cache = o.EmbeddingCachePath ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(o.DatabasePath)) ?? ".", "embedding-cache.db");
            return new EmbedderCatalog(sp.GetRequiredService<OfflineAssets>(), cache);
        });
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<ServerOptions>>().Value;
            return sp.GetRequiredService<EmbedderCatalog>().Open(o.DatabasePath, o.EmbeddingModel);
        });
        services.AddSingleton(sp => sp.GetRequiredService<EmbedderCatalog>().For(sp.GetRequiredService<IndexStore>().Model.Id));
        services.AddSingleton<ITokenizer>(sp => sp.GetRequiredService<OfflineAssets>().Tokenizer());
        services.AddSingleton<WorkingSetCompiler>(sp =>
            CompilerFactory.Create(sp.GetRequiredService<IndexStore>(), sp.GetRequiredService<IndexEmbedder>().Queries, sp.GetRequiredService<OfflineAssets>()));
        services.AddSingleton(sp => new VectorIndexer(sp.GetRequiredService<IndexStore>(), sp.GetRequiredService<IndexEmbedder>().Passages));
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<ServerOptions>>().Value;
            return new SessionStore(sp.GetRequiredService<IndexStore>(), sp.GetRequiredService<WorkingSetCompiler>(), sp.GetRequiredService<ITokenizer>(), o.Sessions);
        });
        services.AddSingleton(sp => new IdempotencyKeys(sp.GetRequiredService<IndexStore>()));
        services.AddSingleton<Endpoints.KeyedLocks>();
        services.AddSingleton(sp => new SessionRecompiler(sp.GetRequiredService<SessionStore>(), sp.GetRequiredService<WorkingSetCompiler>()));
        services.AddHostedService<StartupTasks>();
        // After StartupTasks, which has indexed the text by then: vectors fill in while the service already answers.
        services.AddSingleton<VectorFiller>();
        services.AddHostedService(sp => sp.GetRequiredService<VectorFiller>());
        return services;
    }

    /// <summary>Errors as problem details, then the body-size limit, then API keys, the tenant's rate limit and authorization.</summary>
    public static WebApplication UseContextCompilerPipeline(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(async (context, next) =>
        {
            // Kestrel enforces MaxRequestBodySize while reading; a declared length over the limit is refused up front,
            // which also covers hosts (such as the test server) that do not enforce the limit themselves.
            long limit = context.RequestServices.GetRequiredService<IOptions<ServerOptions>>().Value.MaxRequestBodyBytes;
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
        app.UseRateLimiter();
        app.UseAuthorization();
        return app;
    }
}
