using System.Text.Json;

namespace ContextCompiler.Core.Errors;

/// <summary>
/// What went wrong with a request, as far as its caller needs to know. The HTTP status and problem title, the MCP tool
/// error and the <c>contextc</c> exit code all follow from the kind, so each surface maps the kinds once.
/// </summary>
public enum ErrorKind
{
    /// <summary>The request itself is wrong (a bad value, a missing field, malformed JSON); HTTP 400.</summary>
    InvalidRequest,

    /// <summary>The named session, corpus or document does not exist for the tenant; HTTP 404.</summary>
    NotFound,

    /// <summary>The request conflicts with the current state, such as a closed session or a taken name; HTTP 409.</summary>
    Conflict,

    /// <summary>
    /// A configured limit of the tenant's (open sessions per user, documents, bytes, corpora) would be exceeded; HTTP 409,
    /// since it conflicts with what the tenant holds now and only freeing something helps, not waiting.
    /// </summary>
    CapacityExceeded,

    /// <summary>One item is over its size limit; HTTP 413.</summary>
    TooLarge,

    /// <summary>An Idempotency-Key was reused with a different request; HTTP 422.</summary>
    IdempotencyKeyReused,
}

/// <summary>
/// The base of the failures the service and the CLI report to their callers instead of treating as bugs. Invalid input
/// stays an <see cref="ArgumentException"/> (as the framework's own validation throws), which <see cref="KindOf"/>
/// classifies as <see cref="ErrorKind.InvalidRequest"/>.
/// </summary>
public abstract class ContextCompilerError : Exception
{
    private protected ContextCompilerError(ErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException) => Kind = kind;

    /// <summary>The kind, which decides the HTTP status, the MCP title and the CLI exit code.</summary>
    public ErrorKind Kind { get; }

    /// <summary>
    /// The kind of <paramref name="exception"/>, or null for anything that is not the caller's to fix (a bug, an I/O
    /// failure, a cancellation), which each surface handles on its own.
    /// </summary>
    public static ErrorKind? KindOf(Exception exception) => exception switch
    {
        ContextCompilerError known => known.Kind,
        ArgumentException or JsonException or FormatException => ErrorKind.InvalidRequest,
        _ => null,
    };
}

/// <summary>The named thing does not exist, or belongs to another tenant (which must look the same).</summary>
public abstract class NotFoundError(string message) : ContextCompilerError(ErrorKind.NotFound, message);

/// <summary>The request conflicts with the current state of what it names.</summary>
public abstract class ConflictError(string message) : ContextCompilerError(ErrorKind.Conflict, message);

/// <summary>A configured per-tenant or per-user limit would be exceeded; nothing was written.</summary>
public abstract class CapacityExceededError(string message) : ContextCompilerError(ErrorKind.CapacityExceeded, message);

/// <summary>One item is larger than its configured limit.</summary>
public abstract class TooLargeError(string message) : ContextCompilerError(ErrorKind.TooLarge, message);

/// <summary>An Idempotency-Key was first used with another request; a new request needs a new key.</summary>
public abstract class IdempotencyKeyReusedError(string message) : ContextCompilerError(ErrorKind.IdempotencyKeyReused, message);
