using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace ContextCompiler.Server;

/// <summary>
/// Writes every problem as <c>application/problem+json</c>, whatever the request's <c>Accept</c> says. The framework's
/// default writer declines when a client accepts only, say, <c>text/html</c>, and the status code pages then fall back
/// to plain text; a client of this API always gets the same machine-readable error shape instead.
/// </summary>
internal sealed class ProblemJsonWriter(IOptions<ProblemDetailsOptions> problemOptions, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> jsonOptions) : IProblemDetailsWriter
{
    public const string ContentType = "application/problem+json";

    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var problem = context.ProblemDetails;
        problem.Status ??= http.Response.StatusCode;
        problem.Title ??= ReasonPhrases.GetReasonPhrase(problem.Status.Value);
        problem.Detail ??= problem.Title;
        problem.Extensions.TryAdd("traceId", Activity.Current?.Id ?? http.TraceIdentifier);
        problemOptions.Value.CustomizeProblemDetails?.Invoke(context);
        return new ValueTask(http.Response.WriteAsJsonAsync(problem, typeof(ProblemDetails), jsonOptions.Value.SerializerOptions, ContentType, http.RequestAborted));
    }
}
