namespace ContextCompiler.Core.Retrieve;

/// <summary>
/// Which spans retrieval may return: those of <paramref name="Corpus"/> (when given), under <paramref name="PathPrefix"/>
/// (when given), and only of the corpora in <paramref name="Corpora"/> (when given): a tenant's readable corpora,
/// so that no retriever can hand it another tenant's text.
/// </summary>
public sealed record RetrievalFilter(string? Corpus = null, string? PathPrefix = null, IReadOnlySet<string>? Corpora = null)
{
    /// <summary>True when every span passes, so retrievers can skip the per-span check.</summary>
    public bool IsEmpty => Corpus is null && PathPrefix is null && Corpora is null;

    /// <summary>True when a span of <paramref name="corpus"/>/<paramref name="path"/> passes.</summary>
    public bool Accepts(string corpus, string path) =>
        (Corpus is null || string.Equals(Corpus, corpus, StringComparison.Ordinal))
        && (Corpora is null || Corpora.Contains(corpus))
        && (PathPrefix is null || path.StartsWith(PathPrefix, StringComparison.Ordinal));
}

/// <summary>
/// A span's citation key. Ranking ties are broken by corpus, path and line, never by the row id,
/// so re-ingesting the same files gives the same order.
/// </summary>
public readonly record struct SpanKey(long Id, string Corpus, string Path, int StartLine) : IComparable<SpanKey>
{
    /// <summary>Orders by corpus, path, line (ordinal); the id only separates otherwise equal keys.</summary>
    public int CompareTo(SpanKey other)
    {
        int c = string.CompareOrdinal(Corpus, other.Corpus);
        if (c == 0)
        {
            c = string.CompareOrdinal(Path, other.Path);
        }

        if (c == 0)
        {
            c = StartLine.CompareTo(other.StartLine);
        }

        return c;
    }
}

/// <summary>A span found by one retriever, with that retriever's score (higher is better).</summary>
public sealed record RankedSpan(SpanKey Key, double Score);

/// <summary>A stored span, with everything the later stages need.</summary>
public sealed record SpanRecord(SpanKey Key, int EndLine, string Heading, string Text, int Tokens)
{
    /// <summary>Row id of the span.</summary>
    public long Id => Key.Id;
}

/// <summary>What a lexical retriever is asked for.</summary>
/// <param name="Bm25">k1 and b; retrievers with fixed parameters (FTS5's bm25()) ignore them.</param>
public sealed record LexicalRequest(string Query, RetrievalFilter Filter, int Limit, LexicalWeights Weights, Bm25Parameters Bm25)
{
    /// <summary>Conversation text whose terms join the query's with <see cref="ContextWeight"/> (query terms weigh 1).</summary>
    public string? Context { get; init; }

    /// <summary>Weight of terms found only in <see cref="Context"/>.</summary>
    public double ContextWeight { get; init; }
}

/// <summary>Full-text (BM25) search over span text, headings and paths.</summary>
public interface ILexicalRetriever
{
    /// <summary>The name options use to choose this retriever, for example "bm25" or "fts5".</summary>
    string Name { get; }

    /// <summary>Up to <see cref="LexicalRequest.Limit"/> spans matching the query, best first.</summary>
    IReadOnlyList<RankedSpan> Search(LexicalRequest request);
}

/// <summary>Nearest-neighbour search over span embeddings.</summary>
public interface IVectorRetriever
{
    /// <summary>Up to <paramref name="limit"/> spans nearest to <paramref name="query"/> by cosine similarity, best first.</summary>
    IReadOnlyList<RankedSpan> Search(ReadOnlySpan<float> query, RetrievalFilter filter, int limit);

    /// <summary>The stored embeddings of these spans, in one look-up (spans without one are left out).</summary>
    IReadOnlyDictionary<long, float[]> VectorsOf(IReadOnlyCollection<long> spanIds);
}

/// <summary>Looks up stored spans by id.</summary>
public interface ISpanCatalog
{
    /// <summary>The spans with these ids (missing ids are left out).</summary>
    IReadOnlyDictionary<long, SpanRecord> Get(IReadOnlyCollection<long> ids);
}

/// <summary>BM25 column weights for the title (path), heading trail and body of each span.</summary>
public sealed record LexicalWeights(double Title = 2.0, double Heading = 1.5, double Body = 1.0);

/// <summary>Ranks with deterministic tie-breaks: score descending, then citation order.</summary>
public static class Ranking
{
    /// <summary>Sorts best first; equal scores fall back to corpus, path and line.</summary>
    public static List<T> Order<T>(IEnumerable<T> items, Func<T, double> score, Func<T, SpanKey> key) =>
        items.OrderByDescending(score).ThenBy(key).ToList();
}
