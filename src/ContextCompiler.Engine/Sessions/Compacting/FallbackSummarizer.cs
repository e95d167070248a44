using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ContextCompiler.Engine.Sessions.Compacting;

/// <summary>
/// Wraps the model summariser: when it fails (an error, an empty answer, or no answer within <paramref name="timeout"/>),
/// the extractive summary is used instead, with the reason logged and stored beside it, so a compaction never fails or
/// loses the evicted messages because the model did. A caller's own cancellation is passed on, not replaced.
/// </summary>
public sealed class FallbackSummarizer(IConversationSummarizer primary, IConversationSummarizer fallback, TimeSpan timeout, ILogger<FallbackSummarizer>? logger = null)
    : IConversationSummarizer
{
    private readonly ILogger _logger = logger ?? NullLogger<FallbackSummarizer>.Instance;

    /// <inheritdoc />
    public async Task<Summary> SummarizeAsync(SummaryRequest request, CancellationToken cancellationToken = default)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        string reason;
        try
        {
            return await primary.SummarizeAsync(request, limit.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            reason = $"The model gave no summary within {timeout.TotalSeconds:0.#} s.";
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            reason = $"The model failed: {e.GetType().Name}: {e.Message}";
        }

        _logger.LogWarning("Summarising {Messages} messages with the model failed; using the extractive summary. {Reason}", request.Messages.Count, reason);
        var summary = await fallback.SummarizeAsync(request, cancellationToken);
        return summary with { FallbackReason = reason };
    }
}
