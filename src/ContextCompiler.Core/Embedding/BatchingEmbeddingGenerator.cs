using System.Threading.Channels;
using Microsoft.Extensions.AI;

namespace ContextCompiler.Core.Embedding;

/// <summary>
/// Gathers the texts of concurrent requests into shared model runs. A request that finds a runner free is sent at once,
/// alone, so nothing waits when the service is quiet; requests that arrive while every runner is busy queue and go
/// together in the next run, up to <paramref name="maxBatch"/> texts. Under load the model then runs fewer, fuller
/// batches: on 2 cores, 8 short queries in one run of all-MiniLM-L6-v2 took 17 ms against 8 × 4 ms alone
/// (benchmarks/RESULTS.md, issue 19).
/// </summary>
/// <param name="runners">Runs in flight at once (default: one per core).</param>
public sealed class BatchingEmbeddingGenerator(IEmbeddingGenerator<string, Embedding<float>> inner, int maxBatch = 8, int runners = 0)
    : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner)
{
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false });
    private readonly int _runners = runners > 0 ? runners : Environment.ProcessorCount;
    private readonly Lock _gate = new();
    private int _active;
    private long _runs;

    /// <summary>Model runs made so far (one per batch).</summary>
    public long Runs => Interlocked.Read(ref _runs);

    /// <inheritdoc />
    public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var texts = values as IReadOnlyList<string> ?? values.ToList();
        // Options other than the defaults, and inputs that fill a batch themselves, go straight through.
        if (options is not null || texts.Count >= maxBatch || texts.Count == 0)
        {
            Interlocked.Increment(ref _runs);
            return await base.GenerateAsync(texts, options, cancellationToken);
        }

        var pending = new Pending(texts, cancellationToken);
        _queue.Writer.TryWrite(pending);
        StartRunnerIfIdle();
        return await pending.Result.Task.WaitAsync(cancellationToken);
    }

    private void StartRunnerIfIdle()
    {
        lock (_gate)
        {
            if (_active >= _runners)
            {
                return;
            }

            _active++;
        }

        _ = Task.Run(RunAsync);
    }

    // Takes what is queued (whole requests, up to maxBatch texts), runs it, and repeats until the queue is empty.
    private async Task RunAsync()
    {
        while (true)
        {
            var batch = new List<Pending>();
            int count = 0;
            while (count < maxBatch && _queue.Reader.TryPeek(out var next) && (batch.Count == 0 || count + next.Texts.Count <= maxBatch))
            {
                if (!_queue.Reader.TryRead(out next))
                {
                    break;
                }

                if (next.CancellationToken.IsCancellationRequested)
                {
                    next.Result.TrySetCanceled(next.CancellationToken);
                    continue;
                }

                batch.Add(next);
                count += next.Texts.Count;
            }

            if (batch.Count == 0)
            {
                lock (_gate)
                {
                    // A request queued after the last look finds this runner still counted; look once more before leaving.
                    if (_queue.Reader.Count == 0)
                    {
                        _active--;
                        return;
                    }
                }

                continue;
            }

            await RunBatchAsync(batch);
        }
    }

    private async Task RunBatchAsync(List<Pending> batch)
    {
        try
        {
            Interlocked.Increment(ref _runs);
            var all = await base.GenerateAsync(batch.SelectMany(p => p.Texts).ToList(), options: null, CancellationToken.None);
            int at = 0;
            foreach (var pending in batch)
            {
                var mine = new GeneratedEmbeddings<Embedding<float>>(pending.Texts.Count);
                for (int i = 0; i < pending.Texts.Count; i++)
                {
                    mine.Add(all[at++]);
                }

                pending.Result.TrySetResult(mine);
            }
        }
        catch (Exception e)
        {
            foreach (var pending in batch)
            {
                pending.Result.TrySetException(e);
            }
        }
    }

    private sealed record Pending(IReadOnlyList<string> Texts, CancellationToken CancellationToken)
    {
        public TaskCompletionSource<GeneratedEmbeddings<Embedding<float>>> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
