using ContextCompiler.Core.Errors;

namespace ContextCompiler.Engine.Sessions;

/// <summary>The response a write answered with, kept under its idempotency key so a retry gets the same one.</summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Body">The JSON body, exactly as sent.</param>
/// <param name="Location">The Location header of a 201, if any.</param>
public sealed record StoredResponse(int Status, string Body, string? Location);

/// <summary>A live idempotency key: the fingerprint of the request that claimed it and the response it got.</summary>
public sealed record IdempotencyRecord(string Fingerprint, StoredResponse Response);

/// <summary>
/// A write's claim on an idempotency key. The store saves it, with the response <see cref="Respond"/> renders from the
/// write's result, inside the transaction of the write itself: either both are stored or neither is.
/// </summary>
/// <param name="Key">The client's Idempotency-Key.</param>
/// <param name="Fingerprint">A hash of the request (method, path, body) the key was first used with.</param>
/// <param name="Lifetime">How long the key is remembered.</param>
/// <param name="Respond">The response the client receives for the result.</param>
public sealed record IdempotencyClaim<T>(string Key, string Fingerprint, TimeSpan Lifetime, Func<T, StoredResponse> Respond);

/// <summary>
/// Another request saved the same key first (possibly in another process); the write was rolled back. A conflict: the
/// idempotency filter replays the winner's response, or answers 409 if the winner's record is already gone.
/// </summary>
public sealed class IdempotencyKeyTakenException(string key) : ConflictError($"The Idempotency-Key '{key}' was used by a concurrent request.");
