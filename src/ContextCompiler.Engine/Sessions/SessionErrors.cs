using ContextCompiler.Core.Errors;

namespace ContextCompiler.Engine.Sessions;

/// <summary>The session (or a resource in it) does not exist for this tenant. HTTP 404.</summary>
public sealed class SessionNotFoundException(string id) : NotFoundError($"Session '{id}' was not found.")
{
    /// <summary>The id asked for.</summary>
    public string SessionId { get; } = id;
}

/// <summary>The request conflicts with the session's state, for example a closed session. HTTP 409.</summary>
public sealed class SessionConflictException(string message) : ConflictError(message);

/// <summary>The user already has the most open sessions allowed. HTTP 409 "Quota exceeded", like the corpus quotas.</summary>
public sealed class SessionCapacityException(string message) : CapacityExceededError(message);
