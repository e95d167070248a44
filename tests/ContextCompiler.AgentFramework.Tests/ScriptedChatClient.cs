using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace ContextCompiler.AgentFramework.Tests;

/// <summary>
/// Stands in for a chat model, which cannot run here: each call answers with the next scripted reply (or throws the next
/// scripted exception) and records the messages and options it received.
/// </summary>
internal sealed class ScriptedChatClient(params object[] script) : IChatClient
{
    private readonly Queue<object> _script = new(script);

    /// <summary>Every call, in order.</summary>
    public List<ScriptedCall> Calls { get; } = [];

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        Calls.Add(new ScriptedCall([.. messages], options?.Clone()));
        var next = _script.Count > 0 ? _script.Dequeue() : throw new InvalidOperationException("The script has no more replies.");
        return next switch
        {
            Exception e => Task.FromException<ChatResponse>(e),
            string reply => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, reply))),
            _ => throw new InvalidOperationException($"Cannot script a {next.GetType().Name}."),
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var update in (await GetResponseAsync(messages, options, cancellationToken)).ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}

/// <summary>What the model received in one call.</summary>
internal sealed record ScriptedCall(IReadOnlyList<ChatMessage> Messages, ChatOptions? Options)
{
    /// <summary>How many messages have exactly <paramref name="text"/>.</summary>
    public int Count(string text) => Messages.Count(m => m.Text == text);
}
