namespace ContextCompiler.Core.Tokenization;

/// <summary>
/// tiktoken's byte-pair merge: start from single bytes and repeatedly merge the adjacent pair whose
/// concatenation has the lowest rank, the leftmost one on ties, until no adjacent pair is a token.
/// </summary>
internal static class BytePairMerger
{
    /// <summary>
    /// Up to this many bytes the quadratic scan (stack only, tiny constants) wins; beyond it a heap keeps
    /// pathological inputs (say, a megabyte without a space) from taking quadratic time.
    /// </summary>
    internal const int ScanLimit = 192;

    private const int None = int.MaxValue;

    /// <summary>Number of tokens in <paramref name="piece"/>; appends their ids to <paramref name="ids"/> when given.</summary>
    public static int Merge(BpeRanks ranks, ReadOnlySpan<byte> piece, List<int>? ids) =>
        piece.Length <= ScanLimit ? MergeByScan(ranks, piece, ids) : MergeByHeap(ranks, piece, ids);

    internal static int MergeByScan(BpeRanks ranks, ReadOnlySpan<byte> piece, List<int>? ids)
    {
        int n = piece.Length;
        if (n <= 1)
        {
            if (n == 1) AddId(ranks, piece, ids);
            return n;
        }
        // starts[k] is where part k begins (starts[parts] == n); pairRanks[k] is the rank of parts k and k+1 joined.
        Span<int> starts = n <= ScanLimit ? stackalloc int[ScanLimit + 1] : new int[n + 1];
        Span<int> pairRanks = n <= ScanLimit ? stackalloc int[ScanLimit + 1] : new int[n + 1];
        for (int k = 0; k <= n; k++) starts[k] = k;
        for (int k = 0; k < n - 1; k++) pairRanks[k] = RankOf(ranks, piece, k, k + 2);
        int parts = n;

        while (parts > 1)
        {
            int best = None, at = -1;
            for (int k = 0; k < parts - 1; k++)
            {
                if (pairRanks[k] < best)
                {
                    best = pairRanks[k];
                    at = k;
                }
            }
            if (at < 0) break;

            starts.Slice(at + 2, parts - at - 1).CopyTo(starts[(at + 1)..]);
            pairRanks.Slice(at + 2, parts - at - 2).CopyTo(pairRanks[(at + 1)..]);
            parts--;
            pairRanks[at] = at + 1 < parts ? RankOf(ranks, piece, starts[at], starts[at + 2]) : None;
            if (at > 0) pairRanks[at - 1] = RankOf(ranks, piece, starts[at - 1], starts[at + 1]);
        }

        if (ids is not null)
        {
            for (int k = 0; k < parts; k++) AddId(ranks, piece[starts[k]..starts[k + 1]], ids);
        }
        return parts;
    }

    /// <summary>
    /// The same merge order with a priority queue keyed by (rank, start): parts are named by their start
    /// byte, so the smallest key is the lowest rank and, among equal ranks, the leftmost pair. Entries left
    /// behind by earlier merges are skipped by checking them against the part's current pair rank.
    /// </summary>
    internal static int MergeByHeap(BpeRanks ranks, ReadOnlySpan<byte> piece, List<int>? ids)
    {
        int n = piece.Length;
        if (n <= 1)
        {
            if (n == 1) AddId(ranks, piece, ids);
            return n;
        }
        var next = new int[n];
        var prev = new int[n];
        var pairRank = new int[n];
        var merged = new bool[n];
        var queue = new PriorityQueue<int, long>(n);
        for (int k = 0; k < n; k++)
        {
            next[k] = k + 1;
            prev[k] = k - 1;
            pairRank[k] = k + 2 <= n ? RankOf(ranks, piece, k, k + 2) : None;
            if (pairRank[k] != None) queue.Enqueue(k, Key(pairRank[k], k));
        }

        int parts = n;
        while (queue.TryDequeue(out int left, out long key))
        {
            if (merged[left] || pairRank[left] != (int)(key >> 32)) continue;
            int right = next[left];
            int after = next[right];
            merged[right] = true;
            next[left] = after;
            if (after < n) prev[after] = left;
            parts--;

            pairRank[left] = after < n ? RankOf(ranks, piece, left, next[after]) : None;
            if (pairRank[left] != None) queue.Enqueue(left, Key(pairRank[left], left));
            int before = prev[left];
            if (before >= 0)
            {
                pairRank[before] = RankOf(ranks, piece, before, after);
                if (pairRank[before] != None) queue.Enqueue(before, Key(pairRank[before], before));
            }
        }

        if (ids is not null)
        {
            for (int k = 0; k < n; k = next[k]) AddId(ranks, piece[k..next[k]], ids);
        }
        return parts;
    }

    private static long Key(int rank, int start) => (long)rank << 32 | (uint)start;

    private static int RankOf(BpeRanks ranks, ReadOnlySpan<byte> piece, int start, int end) =>
        ranks.TryGetRank(piece[start..end], out int rank) ? rank : None;

    private static void AddId(BpeRanks ranks, ReadOnlySpan<byte> part, List<int>? ids)
    {
        if (ids is null) return;
        // Merged parts are tokens by construction and single bytes are checked at load time.
        ranks.TryGetRank(part, out int rank);
        ids.Add(rank);
    }
}
