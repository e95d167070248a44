using ContextCompiler.Storage.Index;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ContextCompiler.Server.Endpoints;

/// <summary>Liveness of the service and its database.</summary>
public static class SystemApi
{
    /// <summary>Maps GET /health.</summary>
    public static IEndpointRouteBuilder MapSystemApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", Health).WithName("Health").WithSummary("Service and database health.").WithTags("System");
        return app;
    }

    private static Ok<HealthResponse> Health(IndexStore store, VectorFiller vectors) =>
        TypedResults.Ok(new HealthResponse("ok", store.SchemaVersion(), store.Model.Id, vectors.Status));
}
