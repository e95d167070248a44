namespace ContextCompiler.Storage.Sessions;

/// <summary>The session (or a resource in it) does not exist for this tenant. HTTP 404.</summary>
public sealed class SessionNotFoundException(string id) : Exception($"Session '{id}' was not found.")
{
    /// <summary>The id asked for.</summary>
    public string SessionId { get; } = id;
}

/// <summary>The request conflicts with the session's state, for example a closed session. HTTP 409.</summary>
public sealed class SessionConflictException(string message) : Exception(message);

/// <summary>A configured limit is reached, for example open sessions per user. HTTP 429.</summary>
public sealed class SessionCapacityException(string message) : Exception(message);
