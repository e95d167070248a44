using ContextCompiler.Engine.Index;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ContextCompiler.Server.Endpoints;

/// <summary>Health of the service and its database, for people (<c>/health</c>) and for orchestrators' probes.</summary>
public static class SystemApi
{
    /// <summary>Maps GET /health, /health/live and /health/ready.</summary>
    public static IEndpointRouteBuilder MapSystemApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", Health).WithName("Health")
            .WithSummary("Service and database health, with the process's memory, collections, threads and handles.").WithTags("System");
        app.MapGet("/health/live", Live).WithName("Liveness")
            .WithSummary("Liveness probe: 200 whenever the process answers; it checks nothing else.").WithTags("System");
        app.MapGet("/health/ready", Ready).WithName("Readiness")
            .WithSummary("Readiness probe: 200 when the database answers and the text index is loaded, else 503. Vector progress is reported, not required.")
            .Produces<ProbeResponse>(StatusCodes.Status503ServiceUnavailable).WithTags("System");
        return app;
    }

    private static Ok<HealthResponse> Health(IStoreStatus store, ISpanIndex index, VectorFiller vectors) =>
        TypedResults.Ok(new HealthResponse("ok", store.SchemaVersion(), index.Model.Id, vectors.Status, ProcessFigures.Read()));

    private static Ok<ProbeResponse> Live() => TypedResults.Ok(new ProbeResponse(nameof(HealthStatus.Healthy), [], null));

    private static async Task<Results<Ok<ProbeResponse>, JsonHttpResult<ProbeResponse>>> Ready(
        HealthCheckService health, VectorFiller vectors, CancellationToken cancellationToken)
    {
        var report = await health.CheckHealthAsync(check => check.Tags.Contains(ReadinessChecks.ReadyTag), cancellationToken);
        var checks = report.Entries.Select(e => new ProbeCheck(e.Key, e.Value.Status.ToString(), e.Value.Description, Math.Round(e.Value.Duration.TotalMilliseconds, 3)))
            .ToList();
        var body = new ProbeResponse(report.Status.ToString(), checks, vectors.Status);
        return report.Status == HealthStatus.Healthy
            ? TypedResults.Ok(body)
            : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
