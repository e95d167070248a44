using ContextCompiler.Core.Errors;
using Api = ContextCompiler.Client;

namespace ContextCompiler.Cli.Commands;

/// <summary>
/// The one table of <c>contextc</c> exit codes: an expected failure exits with the code of its <see cref="ErrorKind"/>,
/// so a script can tell a missing session from a bad option without reading the message. README's Commands section
/// lists the same codes.
/// </summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>An expected failure of no service kind: a missing file or database, I/O, SQLite, an unreachable service.</summary>
    public const int Failed = 1;

    /// <summary>Bad arguments or options, or input the command cannot use.</summary>
    public const int InvalidRequest = 2;

    /// <summary>The named session, corpus or document does not exist (for this tenant).</summary>
    public const int NotFound = 3;

    /// <summary>The request conflicts with what is stored, such as a taken corpus name or an index of another model.</summary>
    public const int Conflict = 4;

    /// <summary>A tenant's quota or a user's open-session limit would be exceeded.</summary>
    public const int CapacityExceeded = 5;

    /// <summary>One document is over its size limit.</summary>
    public const int TooLarge = 6;

    /// <summary>The exit code of a failure of <paramref name="kind"/>.</summary>
    public static int Of(ErrorKind kind) => kind switch
    {
        // A reused Idempotency-Key is the caller's request to change (a new key), like any other invalid request.
        ErrorKind.InvalidRequest or ErrorKind.IdempotencyKeyReused => InvalidRequest,
        ErrorKind.NotFound => NotFound,
        ErrorKind.Conflict => Conflict,
        ErrorKind.CapacityExceeded => CapacityExceeded,
        ErrorKind.TooLarge => TooLarge,
        _ => Failed,
    };

    /// <summary>The exit code of an expected failure, or null for a bug, which keeps its stack trace.</summary>
    public static int? For(Exception exception) => KindOf(exception) switch
    {
        { } kind => Of(kind),
        null when exception is IOException or InvalidOperationException or System.Data.Common.DbException or UnauthorizedAccessException
            or HttpRequestException or Api.ContextCompilerException => Failed,
        null => null,
    };

    // The service's failures reach `contextc chat` as the typed client's exceptions (the client shares no types with the
    // server); they exit with the same codes as the failures the CLI meets in the database itself.
    private static ErrorKind? KindOf(Exception exception) => exception switch
    {
        Api.InvalidRequestException or Api.UnsupportedMediaTypeException => ErrorKind.InvalidRequest,
        Api.NotFoundException => ErrorKind.NotFound,
        Api.QuotaExceededException => ErrorKind.CapacityExceeded,
        Api.ConflictException => ErrorKind.Conflict,
        Api.PayloadTooLargeException => ErrorKind.TooLarge,
        Api.IdempotencyKeyReusedException => ErrorKind.IdempotencyKeyReused,
        _ => ContextCompilerError.KindOf(exception),
    };
}
