using Microsoft.Extensions.AI;

namespace ContextCompiler.Tests.Shared;

/// <summary>
/// The stand-in for a chat model (none can run here): answers each request with the next scripted reply, or with what a
/// function of the request returns, and records every request. A reply that is an exception is thrown instead.
/// </summary>
public sealed class ScriptedChatClient : IChatClient
{
    private readonly Func<IReadOnlyList<ChatMessage>, int, object> _reply;
    private readonly List<IReadOnlyList<ChatMessage>> _requests = [];
    private readonly Lock _gate = new();
    private int _inFlight;

    /// <summary>A client answering the <c>n</c>-th request (0-based) with <paramref name="reply"/>(request, n): a string, or an exception to throw.</summary>
    public ScriptedChatClient(Func<IReadOnlyList<ChatMessage>, int, object> reply, string modelId = "scripted-model", TimeSpan? delay = null)
    {
        _reply = reply;
        ModelId = modelId;
        Delay = delay ?? TimeSpan.Zero;
    }

    /// <summary>A client answering requests with <paramref name="replies"/> in order (the last one repeats).</summary>
    public ScriptedChatClient(params object[] replies)
        : this((_, n) => replies[Math.Min(n, replies.Length - 1)])
    {
    }

    /// <summary>The model id the client reports.</summary>
    public string ModelId { get; }

    /// <summary>How long each answer takes.</summary>
    public TimeSpan Delay { get; }

    /// <summary>The requests so far, in order.</summary>
    public IReadOnlyList<IReadOnlyList<ChatMessage>> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>The most requests that were ever being answered at once.</summary>
    public int MostInFlight { get; private set; }

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = messages.ToList();
        int n;
        lock (_gate)
        {
            n = _requests.Count;
            _requests.Add(request);
            MostInFlight = Math.Max(MostInFlight, ++_inFlight);
        }

        try
        {
            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay, cancellationToken);
            }

            return _reply(request, n) switch
            {
                Exception e => throw e,
                string text => new ChatResponse(new ChatMessage(ChatRole.Assistant, text)) { ModelId = ModelId },
                var other => throw new InvalidOperationException($"A scripted reply must be a string or an exception, not {other}."),
            };
        }
        finally
        {
            lock (_gate)
            {
                _inFlight--;
            }
        }
    }

    /// <inheritdoc />
    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The summariser does not stream.");

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("scripted", null, ModelId) : serviceType.IsInstanceOfType(this) ? this : null;

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
