using ContextCompiler.Core.Embedding;
using Microsoft.Extensions.AI;

namespace ContextCompiler.Core.Tests.Embedding;

/// <summary>Concurrent requests share model runs, and each gets exactly its own texts' vectors back.</summary>
public sealed class BatchingEmbeddingGeneratorTests
{
    private static GloveSifEmbedder Glove => TestAssets.Glove;

    [Fact]
    public async Task Requests_that_queue_behind_a_busy_run_go_together_and_each_gets_its_own_vectors()
    {
        using var gate = new SemaphoreSlim(0);
        var model = new Gated(Glove, gate);
        var batching = new BatchingEmbeddingGenerator(model, maxBatch: 8, runners: 1);
        var texts = Enumerable.Range(0, 33).Select(i => $"question {i} about the write-ahead log and checkpoint {i * 7}").ToArray();

        var first = batching.GenerateAsync([texts[0]]);
        await model.Started.WaitAsync(TimeSpan.FromSeconds(10));
        // While the first run is held, the rest queue: 32 texts in requests of one and of two.
        var rest = new List<Task<GeneratedEmbeddings<Embedding<float>>>>();
        for (int i = 1; i < texts.Length; i += i % 3 == 0 ? 2 : 1)
        {
            rest.Add(batching.GenerateAsync(texts.Skip(i).Take(i % 3 == 0 ? 2 : 1).ToList()));
        }

        gate.Release(100);
        var results = await Task.WhenAll(rest.Prepend(first));

        var got = results.SelectMany(r => r).Select(e => e.Vector.ToArray()).ToList();
        Assert.Equal(texts.Length, got.Count);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(Glove.Embed(texts[i]), got[i]);
        }

        // One run for the first text, then the 32 others in runs of at most 8 texts: at least 4, far fewer than requests.
        Assert.InRange(batching.Runs, 5, 7);
        Assert.Equal(batching.Runs, model.Calls);
        Assert.All(model.Sizes, size => Assert.InRange(size, 1, 8));
    }

    [Fact]
    public async Task A_request_alone_is_sent_at_once_and_a_cancelled_one_does_not_hold_the_others()
    {
        using var gate = new SemaphoreSlim(0);
        var model = new Gated(Glove, gate);
        var batching = new BatchingEmbeddingGenerator(model, maxBatch: 8, runners: 1);

        var first = batching.GenerateAsync(["a lone question"]);
        await model.Started.WaitAsync(TimeSpan.FromSeconds(10));
        using var cancel = new CancellationTokenSource();
        var cancelled = batching.GenerateAsync(["never asked"], cancellationToken: cancel.Token);
        var kept = batching.GenerateAsync(["asked after the cancelled one"]);
        cancel.Cancel();
        gate.Release(100);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(Glove.Embed("a lone question"), (await first)[0].Vector.ToArray());
        Assert.Equal(Glove.Embed("asked after the cancelled one"), (await kept)[0].Vector.ToArray());
        Assert.DoesNotContain(model.Texts, t => t == "never asked");
    }

    // The real GloVe embedder, held at a gate so that requests can queue behind a run; it records what each run got.
    private sealed class Gated(IEmbeddingGenerator<string, Embedding<float>> inner, SemaphoreSlim gate)
        : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner)
    {
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Started => _started.Task;

        public int Calls { get; private set; }

        public List<int> Sizes { get; } = [];

        public List<string> Texts { get; } = [];

        public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
            IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            var texts = values.ToList();
            lock (Sizes)
            {
                Calls++;
                Sizes.Add(texts.Count);
                Texts.AddRange(texts);
            }

            _started.TrySetResult();
            await gate.WaitAsync(cancellationToken);
            return await base.GenerateAsync(texts, options, cancellationToken);
        }
    }
}
