using ContextCompiler.Core.Embedding;
using ContextCompiler.Core.Retrieve;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>
/// Exact cosine KNN over the snapshot's contiguous copy of the vec0 table. vec0 stays the persisted index;
/// a SIMD scan of the copy was about ten times faster than vec0's own brute-force scan here (benchmarks/RESULTS.md).
/// </summary>
/// <remarks>
/// From <paramref name="quantizedFromRows"/> rows on, a search first scans the snapshot's int8 codes (a quarter of the
/// bytes: the float scan is bound by memory there), keeps a shortlist, and rescores it with the float rows. The result
/// is the exact scan's, scores and order included: the shortlist is used only when the codes' error bounds prove it
/// holds every row of the exact top <c>limit</c>; otherwise the search scans the float rows as below the threshold.
/// </remarks>
/// <param name="quantizedFromRows">
/// The row count from which the int8 first pass is used (0: whenever the shortlist is at most an eighth of the rows;
/// int.MaxValue: never).
/// </param>
public sealed class InMemoryVectorIndex(IndexSnapshotCache snapshots, int quantizedFromRows = InMemoryVectorIndex.QuantizedScanRows) : IVectorRetriever
{
    /// <summary>
    /// The default of <c>quantizedFromRows</c>. Measured with 384 dimensions and top 100: the two were even at 2k rows and
    /// the first pass saved under 0.05 ms at 5k, but 0.2 ms at 10k and 2.4 ms at 100k.
    /// </summary>
    public const int QuantizedScanRows = 10_000;

    // The shortlist holds max(limit × ShortlistFactor, ShortlistMinimum) rows. Measured on the dev questions at top 100
    // (error bound 0.012): a shortlist of the limit alone failed the proof every time, 2× passed with 0.005 to spare at
    // worst, 4× with 0.028; rescoring 400 rows instead of 200 costs well under 0.1 ms (benchmarks/RESULTS.md).
    private const int ShortlistFactor = 4;
    private const int ShortlistMinimum = 200;

    // Below this many rows one scan is faster than starting threads (measured with 384-dimension vectors).
    private const int ParallelScanRows = 20_000;

    // Measured at 10k rows: with a shortlist of 10 % of the rows the first pass still won, at 20 % it broke even, at 40 %
    // (top 1000, as evaluations ask) it lost; at 100k rows top 1000 (4 %) it won by 2 ms.
    private const int RowsPerShortlistRow = 8;

    private int _inFlight;
    private long _fallbacks;
    private long _shortlistAnswers;

    /// <summary>Quantised searches that could not prove their shortlist held the exact top rows and scanned the float rows.</summary>
    public long ExactFallbacks => Interlocked.Read(ref _fallbacks);

    /// <summary>Searches answered from the int8 pass's shortlist: lets a test see that the pass ran and held.</summary>
    internal long ShortlistAnswers => Interlocked.Read(ref _shortlistAnswers);

    /// <inheritdoc />
    public IReadOnlyList<RankedSpan> Search(ReadOnlySpan<float> query, RetrievalFilter filter, int limit)
    {
        var snapshot = snapshots.Current();
        if (limit <= 0 || snapshot.Keys.Length == 0 || query.Length != snapshot.Dimensions)
        {
            return [];
        }

        int rows = snapshot.Keys.Length;
        int shortlist = (int)Math.Min((long)limit * ShortlistFactor, int.MaxValue);
        shortlist = Math.Max(shortlist, ShortlistMinimum);
        // A search alone gets every core; searches that overlap (a busy service) scan on their own thread each, since
        // splitting them only added thread switches: at 100 turns/s the kernel's scheduling took a tenth of the CPU.
        bool alone = Interlocked.Increment(ref _inFlight) == 1;
        try
        {
            if (rows >= quantizedFromRows && (long)shortlist * RowsPerShortlistRow <= rows
                && QuantizedSearch(snapshot, query, filter, limit, shortlist, alone) is { } found)
            {
                return found;
            }

            return ExactSearch(snapshot, query, filter, limit, alone);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static List<RankedSpan> ExactSearch(IndexSnapshot snapshot, ReadOnlySpan<float> query, RetrievalFilter filter, int limit, bool alone)
    {
        int rows = snapshot.Keys.Length;
        int parts = Parts(rows, alone);
        if (parts <= 1)
        {
            return Scan(snapshot, query, filter, limit, 0, rows).Drain(snapshot.Keys);
        }

        // A large index is scanned in ranges on every core, each keeping its own best rows, merged at the end; ties
        // break by span key in TopK, so the result is the same as one scan's.
        var vector = query.ToArray();
        var partial = new TopK[parts];
        Parallel.For(0, parts, p => partial[p] = Scan(snapshot, vector, filter, limit, (int)((long)rows * p / parts), (int)((long)rows * (p + 1) / parts)));
        var best = partial[0];
        for (int p = 1; p < parts; p++)
        {
            best.Merge(partial[p], snapshot.Keys);
        }

        return best.Drain(snapshot.Keys);
    }

    private static int Parts(int rows, bool alone) => alone && rows >= ParallelScanRows ? Math.Min(Environment.ProcessorCount, 8) : 1;

    private static TopK Scan(IndexSnapshot snapshot, ReadOnlySpan<float> query, RetrievalFilter filter, int limit, int from, int to)
    {
        var best = new TopK(limit);
        bool filtered = !filter.IsEmpty;
        var matrix = snapshot.Matrix.AsSpan();
        int dims = snapshot.Dimensions;
        for (int row = from; row < to; row++)
        {
            // A span whose vector is not written yet is not a vector hit (lexical retrieval still finds it).
            if (!snapshot.HasVector[row] || (filtered && !filter.Accepts(snapshot.Keys[row].Corpus, snapshot.Keys[row].Path)))
            {
                continue;
            }

            best.Offer(VectorMath.Dot(query, matrix.Slice(row * dims, dims)), row, snapshot.Keys);
        }

        return best;
    }

    // The int8 pass, then the float rows of its shortlist; null when the bounds cannot prove the result exact.
    private List<RankedSpan>? QuantizedSearch(IndexSnapshot snapshot, ReadOnlySpan<float> query, RetrievalFilter filter, int limit, int size, bool alone)
    {
        var int8 = snapshot.Int8;
        var codes = new short[query.Length];
        if (!Int8Rows.TryQuantizeQuery(query, codes, out float queryScale, out double queryError) || !float.IsFinite(int8.MaxError))
        {
            return null;
        }

        int rows = snapshot.Keys.Length;
        int parts = Parts(rows, alone);
        Shortlist shortlist;
        if (parts <= 1)
        {
            shortlist = ScanCodes(snapshot, codes, filter, size, 0, rows);
        }
        else
        {
            var lists = new Shortlist[parts];
            Parallel.For(0, parts, p => lists[p] = ScanCodes(snapshot, codes, filter, size, (int)((long)rows * p / parts), (int)((long)rows * (p + 1) / parts)));
            // Each range's rows join one shortlist of the same size: a row a range left out scored at most that range's
            // lowest, and the merged list's lowest is no lower, since that range alone gave it a full list above it.
            shortlist = lists[0];
            for (int p = 1; p < parts; p++)
            {
                lists[p].OfferTo(shortlist);
            }
        }

        // Every row left out of a full shortlist scored at most its lowest code score.
        var candidates = new List<int>(size);
        shortlist.AddRowsTo(candidates);
        float cut = shortlist.Full ? shortlist.Lowest : float.NegativeInfinity;

        // In row order, so that even spans with equal keys and scores come out as the exact scan orders them.
        candidates.Sort();
        var best = new TopK(limit);
        var matrix = snapshot.Matrix.AsSpan();
        int dims = snapshot.Dimensions;
        foreach (int row in candidates)
        {
            best.Offer(VectorMath.Dot(query, matrix.Slice(row * dims, dims)), row, snapshot.Keys);
        }

        var found = best.Drain(snapshot.Keys);
        if (float.IsNegativeInfinity(cut))
        {
            Interlocked.Increment(ref _shortlistAnswers);
            return found; // nothing was left out
        }

        // A row left out has code score ≤ cut, so its exact score is at most cut + bound. When the limit-th exact score
        // is above that, no row left out could have entered the top rows, nor won a tie there.
        double queryNorm = Math.Sqrt(VectorMath.Dot(query, query));
        double bound = ErrorBound(int8, dims, queryNorm, queryError);
        if (found.Count == limit && found[^1].Score > cut * (double)queryScale + bound)
        {
            Interlocked.Increment(ref _shortlistAnswers);
            return found;
        }

        Interlocked.Increment(ref _fallbacks);
        return null;
    }

    // |code score − exact score| for any row: with r̂ = codes·scale and q̂ the int16 query, |r̂·q̂ − r·q| ≤ ‖r̂ − r‖·‖q̂‖
    // + ‖r‖·‖q̂ − q‖; plus room for float rounding in both scores (the exact one sums dims float products).
    private static double ErrorBound(Int8Rows int8, int dims, double queryNorm, double queryError)
    {
        double quantised = int8.MaxError * (queryNorm + queryError) + int8.MaxNorm * queryError;
        double magnitude = (int8.MaxNorm + int8.MaxError) * (queryNorm + queryError);
        return quantised + (dims + 16) * Math.ScaleB(1.0, -22) * magnitude;
    }

    private static Shortlist ScanCodes(IndexSnapshot snapshot, short[] query, RetrievalFilter filter, int size, int from, int to)
    {
        var list = new Shortlist(size);
        bool filtered = !filter.IsEmpty;
        var int8 = snapshot.Int8;
        var codes = int8.Codes.AsSpan();
        var scales = int8.Scales;
        var hasVector = snapshot.HasVector;
        int dims = snapshot.Dimensions;
        for (int row = from; row < to; row++)
        {
            if (!hasVector[row] || (filtered && !filter.Accepts(snapshot.Keys[row].Corpus, snapshot.Keys[row].Path)))
            {
                continue;
            }

            // In the query's scale: multiplied by it once, at the cut, instead of on every row.
            list.Offer(Int8Rows.Dot(codes.Slice(row * dims, dims), query) * scales[row], row);
        }

        return list;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<long, float[]> VectorsOf(IReadOnlyCollection<long> spanIds)
    {
        // One snapshot for the whole batch: outside a compile's pin, each Current() call asks SQLite for the write generation.
        var snapshot = snapshots.Current();
        var vectors = new Dictionary<long, float[]>(spanIds.Count);
        foreach (long id in spanIds)
        {
            if (snapshot.Rows.TryGetValue(id, out int row) && snapshot.HasVector[row])
            {
                vectors[id] = snapshot.Matrix.AsSpan(row * snapshot.Dimensions, snapshot.Dimensions).ToArray();
            }
        }

        return vectors;
    }

    // The rows with the highest code scores seen, in a min-heap (ties with the lowest are left out: the cut covers them).
    private sealed class Shortlist(int capacity)
    {
        private readonly float[] _scores = new float[capacity];
        private readonly int[] _rows = new int[capacity];
        private int _count;

        public bool Full => _count == capacity;

        public float Lowest => _scores[0];

        public void Offer(float score, int row)
        {
            if (_count < capacity)
            {
                int at = _count++;
                while (at > 0 && _scores[(at - 1) / 2] > score)
                {
                    _scores[at] = _scores[(at - 1) / 2];
                    _rows[at] = _rows[(at - 1) / 2];
                    at = (at - 1) / 2;
                }

                (_scores[at], _rows[at]) = (score, row);
                return;
            }

            if (score <= _scores[0])
            {
                return;
            }

            int i = 0;
            while (true)
            {
                int child = 2 * i + 1;
                if (child >= capacity)
                {
                    break;
                }

                if (child + 1 < capacity && _scores[child + 1] < _scores[child])
                {
                    child++;
                }

                if (_scores[child] >= score)
                {
                    break;
                }

                (_scores[i], _rows[i]) = (_scores[child], _rows[child]);
                i = child;
            }

            (_scores[i], _rows[i]) = (score, row);
        }

        public void AddRowsTo(List<int> rows) => rows.AddRange(_rows.AsSpan(0, _count));

        public void OfferTo(Shortlist other)
        {
            for (int i = 0; i < _count; i++)
            {
                other.Offer(_scores[i], _rows[i]);
            }
        }
    }
}
