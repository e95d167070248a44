using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.AI;

namespace ContextCompiler.Engine.Index;

/// <summary>Spans with vectors out of all spans.</summary>
public sealed record VectorProgress(int Done, int Total)
{
    /// <summary>True when every span has its vector.</summary>
    public bool Complete => Done >= Total;

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Done}/{Total}");
}

/// <summary>What one fill did.</summary>
public sealed record VectorFillReport(int Embedded, int Total, long ElapsedMs);

/// <summary>
/// The vector stage of indexing: embeds every span that has no vector yet and writes the vectors to the index, a batch
/// per transaction, so that retrieval picks them up as they come. Text is indexed before this runs, so lexical
/// retrieval serves while vectors fill in. The same for every store (<see cref="ISpanIndex"/>).
/// </summary>
public sealed class VectorIndexer(ISpanIndex index, IEmbeddingGenerator<string, Embedding<float>> embedder)
{
    /// <summary>Spans embedded and written per transaction.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>How many spans have vectors now.</summary>
    public VectorProgress Status() => index.VectorStatus();

    /// <summary>Fills every missing vector, reporting progress after each batch.</summary>
    public async Task<VectorFillReport> FillAsync(IProgress<VectorProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        // An embedder may finish synchronously (the ONNX models compute on the calling thread): without this the whole
        // fill would run on the caller's thread before it gets its task back.
        await Task.Yield();
        var clock = Stopwatch.StartNew();
        int embedded = 0;
        var status = index.VectorStatus();
        progress?.Report(status);
        long after = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var pending = index.SpansWithoutVectors(after, BatchSize);
            if (pending.Count == 0)
            {
                break;
            }

            after = pending[^1].Id;
            // The heading trail gives a section's spans the words of its title, which the body often omits.
            var inputs = pending.Select(p => p.Heading.Length == 0 ? p.Text : p.Heading + "\n" + p.Text).ToList();
            var vectors = await embedder.GenerateAsync(inputs, cancellationToken: cancellationToken);
            if (vectors.Count != pending.Count || vectors.Any(v => v.Vector.Length != index.Model.Dimensions))
            {
                throw new InvalidOperationException(
                    $"The embedder returned {vectors.Count} vectors for {pending.Count} spans, or not of {index.Model.Dimensions} dimensions ({index.Model.Id}).");
            }

            embedded += index.WriteVectors([.. pending.Select((p, i) => (p.Id, vectors[i].Vector))]);
            status = index.VectorStatus();
            progress?.Report(status);
        }

        return new VectorFillReport(embedded, status.Total, clock.ElapsedMilliseconds);
    }
}
