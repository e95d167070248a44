using System.Diagnostics;
using Microsoft.Extensions.AI;

namespace ContextCompiler.Core.Telemetry;

/// <summary>
/// Wraps an embedding model so that each batch it runs is a span (model, texts, input tokens) and its tokens per second
/// a measurement. Put it directly around the model, beneath any cache, so that only real model runs are recorded. The
/// token count is the one the model reports in <see cref="GeneratedEmbeddings{TEmbedding}.Usage"/>; a model that reports
/// none (GloVe-SIF looks words up, it has no tokens) gets a span without it.
/// </summary>
/// <param name="model">The model's id, recorded as <see cref="Tags.Model"/>.</param>
public sealed class TelemetryEmbeddingGenerator(IEmbeddingGenerator<string, Embedding<float>> inner, string model)
    : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner)
{
    /// <inheritdoc />
    public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var inputs = values as IReadOnlyList<string> ?? values.ToList();
        using var activity = Instrumentation.Source.StartActivity("embed");
        activity?.SetTag(Tags.Model, model);
        activity?.SetTag(Tags.Texts, inputs.Count);
        long started = Stopwatch.GetTimestamp();
        var result = await base.GenerateAsync(inputs, options, cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (result.Usage?.InputTokenCount is { } tokens)
        {
            activity?.SetTag(Tags.InputTokens, tokens);
            var modelTag = new KeyValuePair<string, object?>(Tags.Model, model);
            Instrumentation.EmbeddingTokens.Add(tokens, modelTag);
            if (elapsed > TimeSpan.Zero)
            {
                Instrumentation.EmbeddingThroughput.Record(tokens / elapsed.TotalSeconds, modelTag);
            }
        }

        return result;
    }
}
