using Microsoft.Extensions.AI;

namespace ContextCompiler.SemanticKernel.Tests;

/// <summary>
/// A chat model stand-in with a script: each call answers with the next scripted step, given the tools and messages it
/// was sent. It records every request, so a test can read what the model would have seen.
/// </summary>
internal sealed class ScriptedChatClient(params Func<IReadOnlyList<ChatMessage>, ChatOptions?, ChatResponse>[] steps) : IChatClient
{
    private int _next;

    public List<(List<ChatMessage> Messages, ChatOptions? Options)> Requests { get; } = [];

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var sent = messages.ToList();
        Requests.Add((sent, options));
        if (_next >= steps.Length)
        {
            throw new InvalidOperationException($"The script has {steps.Length} steps; call {_next + 1} was not expected.");
        }

        return Task.FromResult(steps[_next++](sent, options));
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The scripted model answers only whole responses.");

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
