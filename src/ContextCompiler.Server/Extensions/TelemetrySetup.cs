using System.Diagnostics;
using ContextCompiler.Core.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ContextCompiler.Server;

/// <summary>
/// OpenTelemetry for the service: the engine's activity source and meter (<see cref="Instrumentation"/>), ASP.NET Core's
/// and HttpClient's instrumentation, and logs that carry the trace and span ids. Everything is exported over OTLP when the
/// standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (with the other standard <c>OTEL_*</c> variables, such as
/// <c>OTEL_EXPORTER_OTLP_PROTOCOL</c> and <c>OTEL_SERVICE_NAME</c>), and nowhere otherwise.
/// </summary>
public static class TelemetrySetup
{
    /// <summary>The service name of the exported resource, unless <c>OTEL_SERVICE_NAME</c> says otherwise.</summary>
    public const string ServiceName = "contextcompiler";

    /// <summary>The standard variable (or configuration key) that turns the OTLP exporter on.</summary>
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Registers tracing, metrics and logging through OpenTelemetry, exporting over OTLP when an endpoint is set.</summary>
    public static IServiceCollection AddContextCompilerTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName))
            .WithTracing(tracing => tracing
                .AddSource(Instrumentation.Name)
                // Probes and the API description are polled, not used: their spans would only bury the turns.
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsPolled(context.Request.Path))
                .AddHttpClientInstrumentation())
            .WithMetrics(metrics => metrics
                .AddMeter(Instrumentation.Name)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation())
            .WithLogging(logging => { }, options => options.IncludeScopes = true);
        if (!string.IsNullOrWhiteSpace(configuration[EndpointVariable]))
        {
            telemetry.UseOtlpExporter();
        }

        return services;
    }

    /// <summary>
    /// Counts every request answered with a 4xx or 5xx in <see cref="Instrumentation.Errors"/>, by status. Goes first in the
    /// pipeline, so that it sees the status the exception handler chose.
    /// </summary>
    public static IApplicationBuilder UseErrorCounting(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        try
        {
            await next(context);
        }
        finally
        {
            int status = context.Response.StatusCode;
            if (status >= 400)
            {
                Instrumentation.Errors.Add(1, new KeyValuePair<string, object?>(Tags.Status, status), new KeyValuePair<string, object?>(Tags.Transport, "http"));
            }
        }
    });

    /// <summary>
    /// Tags the request's span with the tenant its key maps to, so that every trace (a stateless compile, a document write,
    /// a turn) can be found by tenant. Goes right after authentication; the key itself is never recorded.
    /// </summary>
    public static IApplicationBuilder UseTenantTagging(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (Activity.Current is { } request && context.User.FindFirst(ApiKeyAuthenticationHandler.TenantClaim)?.Value is { } tenant)
        {
            request.SetTag(Tags.Tenant, tenant);
        }

        await next(context);
    });

    private static bool IsPolled(PathString path) => path.StartsWithSegments("/health") || path.StartsWithSegments("/openapi");
}
