using System.Net;
using System.Text.Json;

namespace ContextCompiler.Client;

/// <summary>
/// The service answered with an error. For an RFC 7807 problem the members are read into <see cref="Title"/>,
/// <see cref="Detail"/>, <see cref="ProblemType"/>, <see cref="Instance"/> and <see cref="Extensions"/>; any other error
/// body is kept in <see cref="ResponseBody"/> and named in the message. Subclasses mark the statuses a caller acts on.
/// </summary>
public class ContextCompilerException : Exception
{
    /// <summary>An error answer with <paramref name="statusCode"/>; <paramref name="problem"/> is null when the body was no problem document.</summary>
    public ContextCompilerException(string message, HttpStatusCode statusCode, ProblemDocument? problem = null, string? responseBody = null, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        Problem = problem;
        ResponseBody = responseBody;
    }

    /// <summary>The HTTP status of the answer.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The problem document, or null when the body was not one.</summary>
    public ProblemDocument? Problem { get; }

    /// <summary>The problem's title, such as "Not found".</summary>
    public string? Title => Problem?.Title;

    /// <summary>The problem's explanation of this occurrence.</summary>
    public string? Detail => Problem?.Detail;

    /// <summary>The problem's type URI.</summary>
    public string? ProblemType => Problem?.Type;

    /// <summary>The problem's instance URI.</summary>
    public string? Instance => Problem?.Instance;

    /// <summary>The problem's other members (for example <c>traceId</c>, or <c>errors</c> of a validation problem).</summary>
    public IReadOnlyDictionary<string, JsonElement> Extensions => Problem?.Extensions ?? ProblemDocument.NoExtensions;

    /// <summary>The error body as text, as received.</summary>
    public string? ResponseBody { get; }
}

/// <summary>400: the request was invalid (a missing or out-of-range value, malformed JSON).</summary>
public sealed class InvalidRequestException(string message, HttpStatusCode statusCode, ProblemDocument? problem, string? responseBody)
    : ContextCompilerException(message, statusCode, problem, responseBody);

/// <summary>401: no API key, or one the service does not know.</summary>
public sealed class UnauthorizedException(string message, HttpStatusCode statusCode, ProblemDocument? problem, string? responseBody)
    : ContextCompilerException(message, statusCode, problem, responseBody);

/// <summary>404: no such session, corpus or document for this tenant (or it was deleted). Another tenant's corpus is not found too.</summary>
public sealed class NotFoundException(string message, HttpStatusCode statusCode, ProblemDocument? problem, string? responseBody)
    : ContextCompilerException(message, statusCode, problem, responseBody);

/// <summary>
/// 409: the resource does not take this now, for example a message to a closed session or a corpus whose name is taken.
/// A tenant's quota is the subclass <see cref="QuotaExceededException"/>.
/// </summary>
public class ConflictException(string message, HttpStatusCode statusCode, ProblemDocument? problem, string? responseBody)
    : ContextCompilerException(message, statusCode, problem, responseBody);

/// <summary>
/// 409 "Quota exceeded": the tenant's documents, bytes or corpora, or the user's open sessions, would go over their
/// limit; nothing was written. Waiting does not help: delete documents or corpora, or close a session, first.
/// </summary>
public sealed class QuotaExceededException(string message, HttpStatusCode statusCode, ProblemDocument? problem, string? responseBody)
    : ConflictException(message, statusCode, problem, responseBody);

/// <summary>413: the document is larger than the service's per-document limit, or the request body larger than it accepts.</summary>
public sealed class PayloadTooLargeException(string message, HttpStatusCode statusCode, ProblemDocument? problem, string? responseBody)
    : ContextCompilerException(message, statusCode, problem, responseBody);

/// <summary>415: a body the service does not read: a document's media type or charset, or no Content-Type at all.</summary>
public sealed class UnsupportedMediaTypeException(string message, HttpStatusCode statusCode, ProblemDocument? problem, string? responseBody)
    : ContextCompilerException(message, statusCode, problem, responseBody);

/// <summary>422: the <c>Idempotency-Key</c> was first used with a different request; a new request needs a new key.</summary>
public sealed class IdempotencyKeyReusedException(string message, HttpStatusCode statusCode, ProblemDocument? problem, string? responseBody)
    : ContextCompilerException(message, statusCode, problem, responseBody);

/// <summary>429: the tenant's request rate limit was reached, and retries did not get through.</summary>
public sealed class RateLimitedException(string message, HttpStatusCode statusCode, ProblemDocument? problem, string? responseBody, TimeSpan? retryAfter)
    : ContextCompilerException(message, statusCode, problem, responseBody)
{
    /// <summary>How long the service asked to wait (its <c>Retry-After</c>), or null when it did not say.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>An RFC 7807 problem document.</summary>
/// <param name="Extensions">Every member besides the five standard ones.</param>
public sealed record ProblemDocument(string? Type, string? Title, int? Status, string? Detail, string? Instance, IReadOnlyDictionary<string, JsonElement> Extensions)
{
    internal static readonly IReadOnlyDictionary<string, JsonElement> NoExtensions = new Dictionary<string, JsonElement>();

    /// <summary>The problem in <paramref name="json"/>, or null when it is not a JSON object.</summary>
    public static ProblemDocument? TryParse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            string? type = null, title = null, detail = null, instance = null;
            int? status = null;
            var extensions = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var member in document.RootElement.EnumerateObject())
            {
                switch (member.Name)
                {
                    case "type" when member.Value.ValueKind == JsonValueKind.String: type = member.Value.GetString(); break;
                    case "title" when member.Value.ValueKind == JsonValueKind.String: title = member.Value.GetString(); break;
                    case "detail" when member.Value.ValueKind == JsonValueKind.String: detail = member.Value.GetString(); break;
                    case "instance" when member.Value.ValueKind == JsonValueKind.String: instance = member.Value.GetString(); break;
                    case "status" when member.Value.TryGetInt32(out int s): status = s; break;
                    default: extensions[member.Name] = member.Value.Clone(); break;
                }
            }

            return new ProblemDocument(type, title, status, detail, instance, extensions);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>Turns an unsuccessful response into the exception for its status.</summary>
internal static class ErrorResponses
{
    private const int MaxExcerpt = 500;
    private const string QuotaTitle = "Quota exceeded";

    public static async Task<ContextCompilerException> ToExceptionAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string body = await response.Content.ReadAsStringAsync(cancellationToken);
        string? mediaType = response.Content.Headers.ContentType?.MediaType;
        // A problem is recognised by its media type; plain JSON that parses as an object with a status counts too, since
        // proxies and older servers send problems as application/json.
        var problem = mediaType is not null && mediaType.Contains("json", StringComparison.OrdinalIgnoreCase) ? ProblemDocument.TryParse(body) : null;
        if (problem is not null && mediaType != "application/problem+json" && problem.Status is null && problem.Title is null)
        {
            problem = null;
        }

        var status = response.StatusCode;
        var request = response.RequestMessage;
        string where = request is null ? string.Empty : $" to {request.Method} {request.RequestUri?.AbsolutePath}";
        string message = problem is not null
            ? $"{(int)status} {problem.Title ?? response.ReasonPhrase}{where}: {problem.Detail ?? "(no detail)"}"
            : $"{(int)status} {response.ReasonPhrase}{where}, with a {mediaType ?? "body of no type"} that is no problem document: {Excerpt(body)}";

        return (int)status switch
        {
            400 => new InvalidRequestException(message, status, problem, body),
            401 => new UnauthorizedException(message, status, problem, body),
            404 => new NotFoundException(message, status, problem, body),
            // The server titles a quota or open-session limit so; the status alone cannot tell "delete something" from "pick another name".
            409 when problem?.Title == QuotaTitle => new QuotaExceededException(message, status, problem, body),
            409 => new ConflictException(message, status, problem, body),
            413 => new PayloadTooLargeException(message, status, problem, body),
            415 => new UnsupportedMediaTypeException(message, status, problem, body),
            422 => new IdempotencyKeyReusedException(message, status, problem, body),
            429 => new RateLimitedException(message, status, problem, body, RetryAfter(response)),
            _ => new ContextCompilerException(message, status, problem, body),
        };
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };

    private static string Excerpt(string body) => body.Length == 0 ? "(empty)" : body.Length > MaxExcerpt ? body[..MaxExcerpt] + "…" : body;
}
