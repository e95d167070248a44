using Microsoft.Agents.AI;

namespace ContextCompiler.AgentFramework;

/// <summary>
/// A chat history provider that keeps and supplies nothing. A <see cref="ChatClientAgent"/> without a history provider
/// keeps every message in the agent session (<see cref="InMemoryChatHistoryProvider"/>); with
/// <see cref="ContextCompilerContextProvider"/> the service already supplies the budgeted history, so a local copy would
/// only grow the serialized session. <see cref="ContextCompilerAgentExtensions.AsContextCompilerAgent"/> installs this one.
/// </summary>
public sealed class NoLocalChatHistoryProvider : ChatHistoryProvider
{
    // The base class's defaults provide no messages and store none; this type exists to replace the in-memory default.
}
