using ContextCompiler.Core.Errors;

namespace ContextCompiler.Server;

/// <summary>
/// The one table of what each <see cref="ErrorKind"/> is called over the wire: the HTTP status and problem title that
/// <see cref="ProblemMapping"/> sends, and the title that starts an MCP tool error (<see cref="Mcp.ToolErrors"/>).
/// </summary>
internal static class ErrorKinds
{
    /// <summary>The status and title of a failure of <paramref name="kind"/>.</summary>
    public static (int Status, string Title) Describe(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidRequest => (StatusCodes.Status400BadRequest, "Invalid request"),
        ErrorKind.NotFound => (StatusCodes.Status404NotFound, "Not found"),
        ErrorKind.Conflict => (StatusCodes.Status409Conflict, "Conflict"),
        // 409, not 429: 429 belongs to the rate limiter, which sends Retry-After and which clients retry; waiting does
        // not free a quota or a user's open sessions, only deleting or closing something does. The typed client tells
        // this 409 from a plain conflict by its title.
        ErrorKind.CapacityExceeded => (StatusCodes.Status409Conflict, "Quota exceeded"),
        ErrorKind.TooLarge => (StatusCodes.Status413PayloadTooLarge, "Too large"),
        ErrorKind.IdempotencyKeyReused => (StatusCodes.Status422UnprocessableEntity, "Idempotency-Key reused"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "An error kind without a status."),
    };

    /// <summary>The status and title of <paramref name="exception"/>, or null when it is not the caller's to fix.</summary>
    public static (int Status, string Title)? Describe(Exception exception) =>
        ContextCompilerError.KindOf(exception) is { } kind ? Describe(kind) : null;
}
