using System.Collections.Concurrent;
using FastBertTokenizer;
using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;

namespace ContextCompiler.Embeddings;

/// <summary>Threads and batching of an <see cref="OnnxSentenceEmbedder"/>.</summary>
public sealed record OnnxEmbedderOptions
{
    /// <summary>Threads one inference may use (default 1: serving runs many requests at once; ingestion runs batches in parallel instead).</summary>
    public int IntraOpThreads { get; init; } = 1;

    /// <summary>Texts per ONNX run (default 8: larger batches grew ORT's arena to about 2 GB here and were no faster).</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Batches run at once when many texts are embedded (default: one per core).</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Keep ONNX Runtime's CPU memory arena (default false). The arena keeps the largest activations it ever held, so a
    /// service that embedded one batch of long passages would hold hundreds of megabytes for good.
    /// </summary>
    public bool UseMemoryArena { get; init; }

    /// <summary>
    /// Where the model's ONNX file is written once and loaded from (default: <c>contextcompiler/models</c> under the
    /// user's local application data). Null loads the model from a copy in memory instead, at about 90 MB more RSS.
    /// </summary>
    public string? ModelCacheDirectory { get; init; } = DefaultModelCacheDirectory();

    private static string? DefaultModelCacheDirectory()
    {
        string root = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        return root.Length == 0 ? null : Path.Combine(root, "contextcompiler", "models");
    }
}

/// <summary>
/// A sentence embedder over ONNX Runtime for a packaged <see cref="SentenceModel"/>: WordPiece with FastBertTokenizer
/// (cut at the model's maximum by us, since its own cut is unreliable), texts sorted by length and batched with
/// padding to the longest of each batch, pooling as the model was trained, then L2 normalisation. Passages are embedded
/// as given; queries get the model's prefix through <see cref="QueryPrefixEmbeddingGenerator"/>.
/// </summary>
public sealed class OnnxSentenceEmbedder : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly SentenceModel _model;
    private readonly OnnxEmbedderOptions _options;
    private readonly InferenceSession _session;

    // Runs hold it shared and Dispose exclusively: a background embedding still running when its host shuts down (the
    // context-vector warmer, a batch in flight) must finish before the native session is freed, or ONNX Runtime reads
    // freed memory and the process dies with a segfault instead of an exception.
    private readonly ReaderWriterLockSlim _lifetime = new();
    private bool _disposed;
    private readonly string[] _tokenStates;
    private readonly string _vocabulary;
    private readonly long _sepId;
    // FastBertTokenizer is not thread-safe: each thread takes its own from the pool.
    private readonly ConcurrentBag<BertTokenizer> _tokenizers = [];

    /// <summary>Loads <paramref name="model"/> from its package.</summary>
    public OnnxSentenceEmbedder(SentenceModel model, OnnxEmbedderOptions? options = null)
    {
        _model = model;
        _options = options ?? new OnnxEmbedderOptions();
        using var sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = Math.Max(1, _options.IntraOpThreads),
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            EnableCpuMemArena = _options.UseMemoryArena,
        };
        _session = LoadSession(model, _options.ModelCacheDirectory, sessionOptions);
        _tokenStates = [_session.OutputNames[0]];
        _vocabulary = model.ReadVocabulary();
        _sepId = Array.IndexOf(_vocabulary.Split('\n').Select(l => l.TrimEnd('\r')).ToArray(), "[SEP]");
        if (_sepId < 0)
        {
            throw new InvalidOperationException($"The vocabulary of {model.Id} has no [SEP] token.");
        }

        Metadata = new EmbeddingGeneratorMetadata("onnxruntime", defaultModelId: model.Id, defaultModelDimensions: model.Dimensions);
    }

    /// <summary>The model this embedder runs.</summary>
    public SentenceModel Model => _model;

    /// <inheritdoc />
    public EmbeddingGeneratorMetadata Metadata { get; }

    /// <inheritdoc />
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var texts = values as IReadOnlyList<string> ?? values.ToList();
        var vectors = new float[texts.Count][];
        var encoded = new long[texts.Count][];
        for (int i = 0; i < texts.Count; i++)
        {
            encoded[i] = Encode(texts[i]);
        }

        // Sorting by length keeps padding small: each batch is padded only to its own longest text.
        var order = Enumerable.Range(0, texts.Count).OrderBy(i => encoded[i].Length).ToArray();
        var batches = order.Chunk(Math.Max(1, _options.BatchSize)).ToList();
        if (batches.Count == 1 || _options.Parallelism <= 1)
        {
            foreach (var batch in batches)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Run(batch, encoded, vectors);
            }
        }
        else
        {
            await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = _options.Parallelism, CancellationToken = cancellationToken },
                (batch, _) =>
                {
                    Run(batch, encoded, vectors);
                    return ValueTask.CompletedTask;
                });
        }

        // The model's input tokens ([CLS] and [SEP] included, padding not), for callers that meter throughput.
        long tokens = encoded.Sum(e => (long)e.Length);
        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Count)
        {
            Usage = new UsageDetails { InputTokenCount = tokens, TotalTokenCount = tokens },
        };
        foreach (var vector in vectors)
        {
            result.Add(new Embedding<float>(vector) { ModelId = _model.Id });
        }

        return result;
    }

    /// <summary>WordPiece ids of <paramref name="text"/> with [CLS] and [SEP], cut to the model's maximum.</summary>
    public long[] Encode(string text)
    {
        var tokenizer = RentTokenizer();
        try
        {
            // Each WordPiece token covers at least one character, so this buffer never cuts; the cut is ours, below.
            var ids = new long[text.Length + 2];
            var mask = new long[ids.Length];
            int count = tokenizer.Encode(text, ids, mask, null);
            if (count > _model.MaxTokens)
            {
                count = _model.MaxTokens;
                ids[count - 1] = _sepId;
            }

            return ids[..count];
        }
        finally
        {
            _tokenizers.Add(tokenizer);
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    /// <inheritdoc />
    public void Dispose()
    {
        _lifetime.EnterWriteLock();
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _session.Dispose();
        }
        finally
        {
            _lifetime.ExitWriteLock();
        }
    }

    private static InferenceSession LoadSession(SentenceModel model, string? cacheDirectory, SessionOptions sessionOptions)
    {
        if (cacheDirectory is not null)
        {
            try
            {
                return new InferenceSession(model.ModelFile(cacheDirectory), sessionOptions);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A read-only home (some containers) costs memory, not the service: load from memory instead.
            }
        }

        return new InferenceSession(model.ReadModel(), sessionOptions);
    }

    private BertTokenizer RentTokenizer()
    {
        if (_tokenizers.TryTake(out var tokenizer))
        {
            return tokenizer;
        }

        tokenizer = new BertTokenizer();
        tokenizer.LoadVocabulary(new StringReader(_vocabulary), convertInputToLowercase: true);
        return tokenizer;
    }

    private void Run(int[] batch, long[][] encoded, float[][] vectors)
    {
        int width = batch.Max(i => encoded[i].Length);
        var ids = new long[batch.Length * width];
        var mask = new long[batch.Length * width];
        var types = new long[batch.Length * width];
        for (int b = 0; b < batch.Length; b++)
        {
            var tokens = encoded[batch[b]];
            tokens.CopyTo(ids, b * width);
            mask.AsSpan(b * width, tokens.Length).Fill(1);
        }

        long[] shape = [batch.Length, width];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(types, shape);
        var inputs = new Dictionary<string, OrtValue> { ["input_ids"] = idsValue, ["attention_mask"] = maskValue, ["token_type_ids"] = typesValue };
        using var runOptions = new RunOptions();
        _lifetime.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            RunSession(batch, encoded, width, runOptions, inputs, vectors);
        }
        finally
        {
            _lifetime.ExitReadLock();
        }
    }

    private void RunSession(int[] batch, long[][] encoded, int width, RunOptions runOptions, Dictionary<string, OrtValue> inputs, float[][] vectors)
    {
        // Only the token states: the graph's other output (a pooler over [CLS]) would be computed for nothing.
        using var outputs = _session.Run(runOptions, inputs, _tokenStates);
        var states = outputs[0].GetTensorDataAsSpan<float>();
        int dims = _model.Dimensions;
        for (int b = 0; b < batch.Length; b++)
        {
            var vector = new float[dims];
            int length = encoded[batch[b]].Length;
            var rows = states.Slice(b * width * dims, width * dims);
            if (_model.Pooling == Pooling.Cls)
            {
                rows[..dims].CopyTo(vector);
            }
            else
            {
                for (int t = 0; t < length; t++)
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(vector, rows.Slice(t * dims, dims), vector);
                }
            }

            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(vector);
            if (norm > 0)
            {
                System.Numerics.Tensors.TensorPrimitives.Divide(vector, norm, vector);
            }

            vectors[batch[b]] = vector;
        }
    }
}

/// <summary>
/// Puts a model's query prefix before every input, so that the compiler's query embeddings match what the model was
/// trained with; passages go to the undecorated embedder.
/// </summary>
public sealed class QueryPrefixEmbeddingGenerator(IEmbeddingGenerator<string, Embedding<float>> inner, string prefix)
    : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner)
{
    /// <inheritdoc />
    public override Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        base.GenerateAsync(prefix.Length == 0 ? values : values.Select(v => prefix + v), options, cancellationToken);
}
