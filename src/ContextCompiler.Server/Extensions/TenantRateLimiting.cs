using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace ContextCompiler.Server;

/// <summary>
/// Per-tenant fixed-window rate limiting of the <c>/v1</c> API and <c>/mcp</c> (one permit per MCP request, so the
/// tools cannot bypass the limit) with ASP.NET Core's rate limiter. It runs after
/// authentication, so each tenant has its own window; health, OpenAPI and unauthenticated requests (which get a 401
/// anyway) are not limited. A refused request gets a 429 problem with <c>Retry-After</c>.
/// </summary>
internal static class TenantRateLimiting
{
    public static IServiceCollection AddTenantRateLimiting(this IServiceCollection services)
    {
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<ServerOptions>>((limiter, server) =>
        {
            var settings = server.Value.RateLimit;
            if (!settings.Enabled)
            {
                return;
            }

            if (settings.PermitsPerWindow < 1 || settings.Window <= TimeSpan.Zero || settings.QueueLimit < 0)
            {
                throw new OptionsValidationException(ServerOptions.Section, typeof(RateLimitOptions),
                    ["RateLimit needs PermitsPerWindow ≥ 1, a positive Window and QueueLimit ≥ 0."]);
            }

            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                (context.Request.Path.StartsWithSegments("/v1") || context.Request.Path.StartsWithSegments(Mcp.McpApi.Path)) && context.User.FindFirst(ApiKeyAuthenticationHandler.TenantClaim)?.Value is { } tenant
                    ? RateLimitPartition.GetFixedWindowLimiter(tenant, _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = settings.PermitsPerWindow,
                        Window = settings.Window,
                        QueueLimit = settings.QueueLimit,
                        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                    })
                    : RateLimitPartition.GetNoLimiter(string.Empty));
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var response = rejected.HttpContext.Response;
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : settings.Window;
                int seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                var problems = rejected.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>();
                await problems.WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = rejected.HttpContext,
                    ProblemDetails = new ProblemDetails
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests",
                        Detail = $"This tenant may make {settings.PermitsPerWindow} requests per {settings.Window}; retry after {seconds} s.",
                    },
                });
            };
        });
        return services;
    }
}
