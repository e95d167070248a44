using ContextCompiler.Core.Telemetry;
using Microsoft.Extensions.AI;

namespace ContextCompiler.Core.Embedding;

/// <summary>
/// Remembers the embeddings of recent inputs, so that a query asked again (a replay, a recompile, an evaluation over
/// several budgets) costs no model run. Least recently used entries are dropped beyond <paramref name="capacity"/>.
/// Hits and misses are also counted in <see cref="Instrumentation.CacheHits"/> and <see cref="Instrumentation.CacheMisses"/>.
/// </summary>
/// <param name="name">The cache's name in those counters' <see cref="Tags.Cache"/> attribute.</param>
public sealed class MemoryEmbeddingCache(IEmbeddingGenerator<string, Embedding<float>> inner, int capacity = 4096, string name = "query")
    : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner)
{
    private readonly Dictionary<string, LinkedListNode<(string Key, Embedding<float> Value)>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, Embedding<float> Value)> _recency = new();
    private readonly Lock _gate = new();

    /// <summary>Inputs answered from the cache so far.</summary>
    public long Hits { get; private set; }

    /// <summary>Inputs that went to the model so far.</summary>
    public long Misses { get; private set; }

    /// <inheritdoc />
    public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var inputs = values as IReadOnlyList<string> ?? values.ToList();
        var found = new Embedding<float>?[inputs.Count];
        var missing = new List<int>();
        lock (_gate)
        {
            for (int i = 0; i < inputs.Count; i++)
            {
                if (_entries.TryGetValue(inputs[i], out var node))
                {
                    _recency.Remove(node);
                    _recency.AddFirst(node);
                    found[i] = node.Value.Value;
                    Hits++;
                }
                else
                {
                    missing.Add(i);
                    Misses++;
                }
            }
        }

        Instrumentation.CacheHits.Add(inputs.Count - missing.Count, new KeyValuePair<string, object?>(Tags.Cache, name));
        Instrumentation.CacheMisses.Add(missing.Count, new KeyValuePair<string, object?>(Tags.Cache, name));
        if (missing.Count > 0)
        {
            var fresh = await base.GenerateAsync(missing.Select(i => inputs[i]).ToList(), options, cancellationToken);
            lock (_gate)
            {
                for (int m = 0; m < missing.Count; m++)
                {
                    found[missing[m]] = fresh[m];
                    Remember(inputs[missing[m]], fresh[m]);
                }
            }
        }

        return new GeneratedEmbeddings<Embedding<float>>(found.Select(e => e!));
    }

    private void Remember(string key, Embedding<float> value)
    {
        if (_entries.ContainsKey(key) || capacity <= 0)
        {
            return;
        }

        _entries[key] = _recency.AddFirst((key, value));
        while (_entries.Count > capacity && _recency.Last is { } oldest)
        {
            _recency.RemoveLast();
            _entries.Remove(oldest.Value.Key);
        }
    }
}
