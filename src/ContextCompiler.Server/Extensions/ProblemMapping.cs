using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace ContextCompiler.Server;

/// <summary>
/// The one place where failures become HTTP statuses and RFC 7807 problem details: the framework's own bad requests,
/// the service's errors by their kind (<see cref="ErrorKinds"/>), a client that went away, and everything else as 500.
/// </summary>
internal sealed class ProblemMapping(IProblemDetailsService problems, ILogger<ProblemMapping> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, bad.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? "Request body too large" : Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(bad.StatusCode)),
            _ when ErrorKinds.Describe(exception) is { } known => known,
            OperationCanceledException when context.RequestAborted.IsCancellationRequested => (499, "Client closed request"),
            _ => (StatusCodes.Status500InternalServerError, "Internal server error"),
        };
        string detail = status == StatusCodes.Status500InternalServerError ? "An unexpected error occurred; see the server log." : exception.Message;
        if (status >= 500)
        {
            logger.LogError(exception, "Unhandled error on {Method} {Path}", context.Request.Method, context.Request.Path);
        }

        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }
}
