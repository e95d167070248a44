using System.Threading.Channels;
using Microsoft.Extensions.AI;

namespace ContextCompiler.Engine.Sessions;

/// <summary>
/// Embeds an assistant reply when it is stored, in the background, through the query embedder and its cache. The next
/// turn's conversation vector (<see cref="Core.Compile.CompilerOptions.ContextVectors"/> "messages") then finds the reply
/// there, and the turn runs the model for its own message alone. Earlier user messages need no warming: each was its
/// own turn's query.
/// </summary>
/// <remarks>
/// A reply not yet embedded when the next turn comes is embedded by that turn; warming only moves the work off the
/// turn's path. The queue is bounded and drops its oldest text when full, so a burst of replies cannot hold memory.
/// </remarks>
public sealed class ContextVectorWarmer : IDisposable
{
    private readonly Lazy<IEmbeddingGenerator<string, Embedding<float>>> _queries;
    private readonly Channel<string> _queue;
    private readonly Task _loop;
    private long _warmed;
    private long _failed;
    // Texts queued and not yet done with (embedded, failed or dropped): what DrainAsync waits for.
    private long _pending;

    /// <summary>Warms <paramref name="queries"/>, the compiler's query embedder (its cache in front), asked for at the first reply.</summary>
    /// <remarks>Lazily, so that commands which only read sessions never load a model.</remarks>
    public ContextVectorWarmer(Func<IEmbeddingGenerator<string, Embedding<float>>> queries)
    {
        _queries = new Lazy<IEmbeddingGenerator<string, Embedding<float>>>(queries);
        _queue = Channel.CreateBounded<string>(
            new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Decrement(ref _pending));
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Texts embedded so far.</summary>
    public long Warmed => Interlocked.Read(ref _warmed);

    /// <summary>Texts whose embedding failed; their turn embeds them instead.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Queues <paramref name="text"/> to be embedded; returns at once.</summary>
    public void Warm(string text)
    {
        // Counted before it is written, so that a text being embedded is never missed by DrainAsync.
        Interlocked.Increment(ref _pending);
        if (!_queue.Writer.TryWrite(text))
        {
            Interlocked.Decrement(ref _pending);
        }
    }

    /// <summary>Waits until every text queued so far is embedded, has failed or was dropped (for tests and orderly shutdown).</summary>
    public async Task DrainAsync(CancellationToken cancellationToken = default)
    {
        while (Interlocked.Read(ref _pending) > 0)
        {
            await Task.Delay(5, cancellationToken);
        }
    }

    private async Task RunAsync()
    {
        await foreach (var text in _queue.Reader.ReadAllAsync())
        {
            try
            {
                await _queries.Value.GenerateAsync([text]);
                Interlocked.Increment(ref _warmed);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Only a head start is lost: the next turn embeds the reply itself and reports any error there.
                Interlocked.Increment(ref _failed);
            }
            finally
            {
                Interlocked.Decrement(ref _pending);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        // Embedding one queued text takes milliseconds; a shutdown does not wait for a long queue.
        _loop.Wait(TimeSpan.FromSeconds(2));
    }
}
