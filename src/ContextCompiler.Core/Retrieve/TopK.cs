namespace ContextCompiler.Core.Retrieve;

/// <summary>
/// Keeps the k best (score, key) pairs seen, ties broken by citation order, without sorting everything.
/// </summary>
public sealed class TopK(int capacity)
{
    private readonly List<(float Score, int Row)> _items = new(capacity + 1);

    /// <summary>Considers row <paramref name="row"/> (an index into <paramref name="keys"/>) with its score.</summary>
    public void Offer(float score, int row, SpanKey[] keys)
    {
        if (capacity <= 0 || (_items.Count == capacity && !Better(score, row, _items[^1], keys)))
        {
            return;
        }

        int at = _items.Count;
        while (at > 0 && Better(score, row, _items[at - 1], keys))
        {
            at--;
        }

        _items.Insert(at, (score, row));
        if (_items.Count > capacity)
        {
            _items.RemoveAt(_items.Count - 1);
        }
    }

    /// <summary>Considers every row <paramref name="other"/> kept, as if each had been offered here.</summary>
    public void Merge(TopK other, SpanKey[] keys)
    {
        foreach (var (score, row) in other._items)
        {
            Offer(score, row, keys);
        }
    }

    /// <summary>The kept rows, best first.</summary>
    public List<RankedSpan> Drain(SpanKey[] keys) => _items.Select(i => new RankedSpan(keys[i.Row], i.Score)).ToList();

    private static bool Better(float score, int row, (float Score, int Row) other, SpanKey[] keys) =>
        score > other.Score || (score == other.Score && keys[row].CompareTo(keys[other.Row]) < 0);
}
