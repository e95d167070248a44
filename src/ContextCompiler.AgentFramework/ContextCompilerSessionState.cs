using ContextCompiler.Client;

namespace ContextCompiler.AgentFramework;

/// <summary>
/// What the provider keeps in an agent session's <c>StateBag</c>: the service session and the latest turn and reply. It is
/// serialized with the agent session, so a restored session continues the same service session.
/// </summary>
public sealed class ContextCompilerSessionState
{
    /// <summary>The service session's id; null until the first turn creates it.</summary>
    public string? SessionId { get; set; }

    /// <summary>The turn the latest run took; null when that run had no user message.</summary>
    public ContextCompilerTurn? LastTurn { get; set; }

    /// <summary>The assistant reply stored for <see cref="LastTurn"/>, with its citation check; null until the run succeeds.</summary>
    public Message? LastReply { get; set; }
}

/// <summary>One turn as the model received it: the stored user message, the citations of its working set and its token accounting.</summary>
/// <param name="Citations">The working set's blocks; <c>[n]</c> in the reply refers to <see cref="Citation.N"/>.</param>
/// <param name="EmptyReason">Why the working set is empty, when it is.</param>
/// <param name="Summary">The service's compaction whose summary the history started with; null when it had none.</param>
/// <param name="Compacted">True when this turn made that compaction.</param>
public sealed record ContextCompilerTurn(
    string UserMessageId, IReadOnlyList<Citation> Citations, int ContextTokens, int HistoryTokens, int HistoryMessages, string? EmptyReason = null,
    Compaction? Summary = null, bool Compacted = false);
