using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ContextCompiler.Core.Errors;
using ContextCompiler.Engine.Sessions;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace ContextCompiler.Server.Endpoints;

/// <summary>A request body whose content, with the method and path, identifies a request for Idempotency-Key checks.</summary>
public interface IIdempotentBody;

/// <summary>A request's Idempotency-Key, checked and not yet used: the handler passes it to the store as a claim.</summary>
internal sealed record IdempotencyRequest(string Key, string Fingerprint, TimeSpan Lifetime);

/// <summary>
/// <c>Idempotency-Key</c> on writes, as payment APIs have it. A key first seen is handed to the handler, whose store saves it
/// with the response in the write's own transaction. A key seen before answers with the saved response (same ids, same
/// working set) and writes nothing, if the request is the same; a different request gets 422. Requests with one key
/// queue behind each other in this process, and the key's primary key settles a race between processes.
/// </summary>
internal sealed class IdempotencyFilter(IIdempotencyKeyStore keys, KeyedLocks locks, IOptions<ServerOptions> options) : IEndpointFilter
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    private const int MaxKeyLength = 255;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!http.Request.Headers.TryGetValue(Header, out var values))
        {
            return await next(context);
        }

        string key = ValidKey(values);
        string tenant = http.User.Tenant();
        string fingerprint = Fingerprint(http.Request, context.Arguments);
        using var held = await locks.AcquireAsync(tenant + "\n" + key, http.RequestAborted);
        if (keys.Find(tenant, key) is { } saved)
        {
            return Replay(http, key, fingerprint, saved);
        }

        http.Features.Set(new IdempotencyRequest(key, fingerprint, options.Value.IdempotencyKeyLifetime));
        try
        {
            return await next(context);
        }
        catch (IdempotencyKeyTakenException)
        {
            // Another process saved the key between our lookup and our commit; our write was rolled back.
            return keys.Find(tenant, key) is { } won ? Replay(http, key, fingerprint, won) : throw new SessionConflictException($"The Idempotency-Key '{key}' is in use; retry.");
        }
    }

    private static IResult Replay(HttpContext http, string key, string fingerprint, IdempotencyRecord saved)
    {
        if (!string.Equals(saved.Fingerprint, fingerprint, StringComparison.Ordinal))
        {
            throw new IdempotencyMismatchException(key);
        }

        http.Response.Headers[ReplayedHeader] = "true";
        if (saved.Response.Location is { } location)
        {
            http.Response.Headers.Location = location;
        }

        return Results.Text(saved.Response.Body, "application/json; charset=utf-8", Encoding.UTF8, saved.Response.Status);
    }

    private static string ValidKey(Microsoft.Extensions.Primitives.StringValues values)
    {
        if (values.Count != 1 || values[0] is not { Length: > 0 and <= MaxKeyLength } key || key.AsSpan().ContainsAnyExceptInRange('!', '~'))
        {
            throw new ArgumentException($"{Header} must be one value of 1 to {MaxKeyLength} visible ASCII characters, such as a UUID.");
        }

        return key;
    }

    // The method, the path and the bound body in its canonical JSON: a retry that re-serializes the same values matches.
    private static string Fingerprint(HttpRequest request, IList<object?> arguments)
    {
        var text = new StringBuilder().Append(request.Method).Append(' ').Append(request.Path.Value).Append('\n');
        foreach (var body in arguments.OfType<IIdempotentBody>())
        {
            text.Append(JsonSerializer.Serialize(body, body.GetType(), SessionJson.Options));
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}

/// <summary>The Idempotency-Key was first used with another request. HTTP 422.</summary>
public sealed class IdempotencyMismatchException(string key)
    : IdempotencyKeyReusedError($"The Idempotency-Key '{key}' was already used with a different request; use a new key for a new request.");

/// <summary>Turns the request's checked Idempotency-Key into the store's claim on it.</summary>
internal static class IdempotencyClaims
{
    /// <summary>The claim, or null when the request has no Idempotency-Key. The saved response is <paramref name="response"/>, serialized as the endpoint sends it.</summary>
    public static IdempotencyClaim<T>? ClaimFor<T>(this HttpContext http, int status, Func<T, object> response, Func<T, string>? location = null) =>
        http.Features.Get<IdempotencyRequest>() is { } request
            ? new IdempotencyClaim<T>(request.Key, request.Fingerprint, request.Lifetime, result =>
            {
                var value = response(result);
                return new StoredResponse(status, JsonSerializer.Serialize(value, value.GetType(), SessionJson.Options), location?.Invoke(result));
            })
            : null;

    /// <summary>Declares the optional header for OpenAPI and checks it with <see cref="IdempotencyFilter"/>.</summary>
    public static RouteHandlerBuilder WithIdempotencyKey(this RouteHandlerBuilder builder) =>
        builder.AddEndpointFilter<IdempotencyFilter>().ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                operation.Parameters ??= [];
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = IdempotencyFilter.Header,
                    In = ParameterLocation.Header,
                    Required = false,
                    Description = "A unique key (1 to 255 visible ASCII characters, such as a UUID) that makes a retry safe: the same key with the same "
                        + "request returns the original response and writes nothing (the reply carries Idempotent-Replayed: true); with a different "
                        + "request it is a 422 problem. Keys are kept per tenant for ContextCompiler:IdempotencyKeyLifetime (default 24 hours).",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = 255 },
                });
                return Task.CompletedTask;
            });
}

/// <summary>One async lock per key, removed when nobody holds or waits for it, so made-up keys cannot grow the table.</summary>
internal sealed class KeyedLocks
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public async Task<IDisposable> AcquireAsync(string key, CancellationToken cancellationToken)
    {
        Entry entry;
        while (true)
        {
            entry = _entries.GetOrAdd(key, _ => new Entry());
            lock (entry)
            {
                if (!entry.Removed)
                {
                    entry.Users++;
                    break;
                }
            }
        }

        try
        {
            await entry.Gate.WaitAsync(cancellationToken);
        }
        catch
        {
            Leave(key, entry);
            throw;
        }

        return new Held(this, key, entry);
    }

    private void Leave(string key, Entry entry)
    {
        lock (entry)
        {
            if (--entry.Users == 0)
            {
                entry.Removed = true;
                _entries.TryRemove(new KeyValuePair<string, Entry>(key, entry));
            }
        }
    }

    private sealed class Entry
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public int Users { get; set; }

        public bool Removed { get; set; }
    }

    private sealed class Held(KeyedLocks owner, string key, Entry entry) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                entry.Gate.Release();
                owner.Leave(key, entry);
            }
        }
    }
}
