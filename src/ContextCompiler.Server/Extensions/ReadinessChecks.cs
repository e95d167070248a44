using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Stores;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ContextCompiler.Server;

/// <summary>
/// What <c>/health/ready</c> asks, as ASP.NET Core health checks tagged <see cref="ReadyTag"/>: the database answers and
/// the text index is in memory. Vector progress is reported beside them (<see cref="Endpoints.SystemApi"/>), never as a
/// failure: lexical retrieval serves while vectors fill in, so a replica is ready before its vectors are complete.
/// </summary>
public static class ReadinessChecks
{
    /// <summary>The tag of the checks that readiness runs.</summary>
    public const string ReadyTag = "ready";

    /// <summary>Registers the database and text-index checks.</summary>
    public static IServiceCollection AddContextCompilerHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<DatabaseCheck>("database", tags: [ReadyTag])
            .AddCheck<TextIndexCheck>("text-index", tags: [ReadyTag]);
        return services;
    }

    /// <summary>The database file opens and answers a query.</summary>
    internal sealed class DatabaseCheck(IStoreStatus store) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                int schema = store.SchemaVersion();
                return Task.FromResult(HealthCheckResult.Healthy("The database answers.", new Dictionary<string, object> { ["schemaVersion"] = schema }));
            }
            catch (Exception e) when (e is System.Data.Common.DbException or IOException or InvalidOperationException)
            {
                return Task.FromResult(HealthCheckResult.Unhealthy("The database does not answer: " + e.Message));
            }
        }
    }

    /// <summary>The start-up tasks are done and the in-memory text index (BM25 and the vector matrix) is loaded.</summary>
    internal sealed class TextIndexCheck(IStore store, StartupTasks startup) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(
                !startup.Completed ? HealthCheckResult.Unhealthy("The start-up tasks (purge, first ingest) are still running.")
                : store.TextIndexLoaded ? HealthCheckResult.Healthy("The text index is loaded.")
                : HealthCheckResult.Unhealthy("The text index is not loaded yet."));
    }
}
