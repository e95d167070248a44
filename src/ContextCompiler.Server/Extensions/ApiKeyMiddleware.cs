using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace ContextCompiler.Server;

/// <summary>
/// Resolves the caller's tenant from the <c>X-Api-Key</c> header (or <c>Authorization: Bearer</c>). With no keys configured every
/// caller is tenant "default"; with keys, a missing or unknown key is a 401 problem. Health and OpenAPI stay open.
/// </summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, IOptions<ServerOptions> options)
{
    public const string Header = "X-Api-Key";
    public const string DefaultTenant = "default";
    private const string TenantItem = "contextcompiler.tenant";

    public async Task InvokeAsync(HttpContext context, IProblemDetailsService problems)
    {
        var keys = options.Value.ApiKeys;
        if (keys.Count == 0 || context.Request.Path.StartsWithSegments("/health") || context.Request.Path.StartsWithSegments("/openapi"))
        {
            context.Items[TenantItem] = DefaultTenant;
            await next(context);
            return;
        }

        string? key = context.Request.Headers[Header].FirstOrDefault();
        if (string.IsNullOrEmpty(key) && context.Request.Headers.Authorization.FirstOrDefault() is { } auth && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            key = auth["Bearer ".Length..].Trim();
        }

        if (key is null || !keys.TryGetValue(key, out var tenant))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "ApiKey";
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status401Unauthorized,
                    Title = "Unauthorized",
                    Detail = key is null ? $"An API key is required in the {Header} header." : "The API key is not recognised.",
                },
            });
            return;
        }

        context.Items[TenantItem] = tenant;
        await next(context);
    }

    /// <summary>The tenant this middleware resolved for the request.</summary>
    public static string TenantOf(HttpContext context) =>
        context.Items[TenantItem] as string ?? throw new InvalidOperationException("The API key middleware did not run.");
}
