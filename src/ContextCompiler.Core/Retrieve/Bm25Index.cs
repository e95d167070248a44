using System.Buffers;
using ContextCompiler.Core.Embedding;

namespace ContextCompiler.Core.Retrieve;

/// <summary>
/// BM25 saturation and length normalisation (Anserini's defaults: k1 = 0.9, b = 0.4), and optional pseudo-relevance
/// feedback in the manner of RM3: the top <paramref name="FeedbackDocs"/> results of a first pass vote, weighted by
/// score, for <paramref name="FeedbackTerms"/> expansion terms, which join the query with weight up to
/// <paramref name="FeedbackWeight"/> (0 docs = off).
/// </summary>
public sealed record Bm25Parameters(double K1 = 0.9, double B = 0.4, int FeedbackDocs = 0, int FeedbackTerms = 10, double FeedbackWeight = 0.5);

/// <summary>One document for <see cref="Bm25Index"/>: a span's key and its three fields.</summary>
public sealed record Bm25Document(SpanKey Key, string Title, string Heading, string Body);

/// <summary>
/// An in-memory inverted index scored with BM25 over three fields (title, heading trail, body) the way FTS5's
/// bm25() weighs columns: a term's frequencies are weighted per field and summed, then saturated against the
/// span's whole length. (Scoring each field on its own, or normalising each field by its own length, did worse on
/// the dev questions.) Terms are lower-cased, split like identifiers, stop-worded and Porter-stemmed. Unlike FTS5's fixed bm25(), k1 and b can be tuned, and scoring
/// touches only the postings of the query's terms.
/// </summary>
public sealed class Bm25Index
{
    private const int Fields = 3;
    private static readonly HashSet<string> StemmedStopWords = Retrieve.QueryTerms.StopWordList.Select(PorterStemmer.Stem).ToHashSet(StringComparer.Ordinal);
    private readonly Dictionary<string, Posting[]> _postings;
    private readonly int[] _totalLengths;
    private readonly double _averageLength;
    private readonly (string[] Terms, ushort[] Counts)[] _forward;
    private readonly Analysed[] _analysed;

    // Each span's corpus (an index into _corpusNames), and each corpus's span count and summed length: the collection
    // statistics of a tenant's readable corpora are summed from these per search.
    private readonly int[] _corpusOf;
    private readonly string[] _corpusNames;
    private readonly int[] _corpusSpans;
    private readonly long[] _corpusLengths;

    private Bm25Index(
        SpanKey[] keys, Dictionary<string, Posting[]> postings, int[] totalLengths, (string[] Terms, ushort[] Counts)[] forward, Analysed[] analysed)
    {
        _analysed = analysed;
        Keys = keys;
        _postings = postings;
        _totalLengths = totalLengths;
        _averageLength = totalLengths.Length == 0 ? 0 : totalLengths.Average();
        _forward = forward;
        RowOf = keys.Select((k, i) => (k.Id, i)).ToDictionary(x => x.Id, x => x.i);
        var corpusIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        _corpusOf = new int[keys.Length];
        for (int doc = 0; doc < keys.Length; doc++)
        {
            if (!corpusIndex.TryGetValue(keys[doc].Corpus, out int c))
            {
                corpusIndex[keys[doc].Corpus] = c = corpusIndex.Count;
            }

            _corpusOf[doc] = c;
        }

        _corpusNames = new string[corpusIndex.Count];
        foreach (var (name, c) in corpusIndex)
        {
            _corpusNames[c] = name;
        }

        _corpusSpans = new int[_corpusNames.Length];
        _corpusLengths = new long[_corpusNames.Length];
        for (int doc = 0; doc < keys.Length; doc++)
        {
            _corpusSpans[_corpusOf[doc]]++;
            _corpusLengths[_corpusOf[doc]] += totalLengths[doc];
        }
    }

    /// <summary>The documents' keys, by row.</summary>
    public SpanKey[] Keys { get; }

    /// <summary>The row of each span id.</summary>
    public IReadOnlyDictionary<long, int> RowOf { get; }

    /// <summary>Number of distinct terms.</summary>
    public int Terms => _postings.Count;

    /// <summary>Indexes <paramref name="documents"/>.</summary>
    public static Bm25Index Build(IReadOnlyList<Bm25Document> documents)
    {
        var stems = new Dictionary<string, string>(StringComparer.Ordinal);
        return Build(documents.Select(d => d.Key).ToArray(), documents.Select(d => Analyse(d, stems)).ToArray());
    }

    /// <summary>
    /// Indexes the spans <paramref name="keys"/>: the documents in <paramref name="added"/> are analysed, every other key
    /// reuses <paramref name="previous"/>'s analysis of the same span id. The caller decides which spans are unchanged. Analysis (splitting, stop words, stemming) is most of the cost of a build, so an index after an upload
    /// or a batch of vectors is rebuilt in a fraction of the time.
    /// </summary>
    /// <exception cref="ArgumentException">A key neither in <paramref name="previous"/> nor in <paramref name="added"/>.</exception>
    public static Bm25Index Update(Bm25Index? previous, SpanKey[] keys, IReadOnlyList<Bm25Document> added)
    {
        var stems = new Dictionary<string, string>(StringComparer.Ordinal);
        var fresh = added.ToDictionary(d => d.Key.Id);
        var analysed = new Analysed[keys.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            analysed[i] = fresh.TryGetValue(keys[i].Id, out var document) ? Analyse(document, stems)
                : previous is not null && previous.RowOf.TryGetValue(keys[i].Id, out int row) ? previous._analysed[row]
                : throw new ArgumentException($"Span {keys[i].Id} is neither indexed already nor among the added documents.", nameof(added));
        }

        return Build(keys, analysed);
    }

    private static Bm25Index Build(SpanKey[] keys, Analysed[] analysed)
    {
        var lists = new Dictionary<string, List<Posting>>(StringComparer.Ordinal);
        var forward = new (string[] Terms, ushort[] Counts)[keys.Length];
        var totalLengths = new int[keys.Length];
        for (int doc = 0; doc < keys.Length; doc++)
        {
            var a = analysed[doc];
            totalLengths[doc] = a.Length;
            var docCounts = new ushort[a.Terms.Length];
            for (int t = 0; t < a.Terms.Length; t++)
            {
                var (title, heading, body) = a.Frequencies[t];
                if (!lists.TryGetValue(a.Terms[t], out var list))
                {
                    lists[a.Terms[t]] = list = [];
                }

                list.Add(new Posting(doc, title, heading, body));
                docCounts[t] = (ushort)Math.Min(ushort.MaxValue, title + heading + body);
            }

            forward[doc] = (a.Terms, docCounts);
        }

        return new Bm25Index(keys, lists.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal), totalLengths, forward, analysed);
    }

    // One document's distinct terms with their frequency in each field, and its length in terms over all fields.
    private static Analysed Analyse(Bm25Document d, Dictionary<string, string> stems)
    {
        var counts = new Dictionary<string, (ushort T, ushort H, ushort B)>(StringComparer.Ordinal);
        int length = Count(d.Title, 0) + Count(d.Heading, 1) + Count(d.Body, 2);
        return new Analysed(counts.Keys.ToArray(), counts.Values.ToArray(), length);

        int Count(string text, int field)
        {
            int n = 0;
            foreach (var term in Analyze(text, stems))
            {
                n++;
                counts.TryGetValue(term, out var tf);
                counts[term] = field switch
                {
                    0 => (Inc(tf.T), tf.H, tf.B),
                    1 => (tf.T, Inc(tf.H), tf.B),
                    _ => (tf.T, tf.H, Inc(tf.B)),
                };
            }

            return n;
        }
    }

    /// <summary>The analysed terms of a query: stop words dropped, stemmed, each once.</summary>
    public static IReadOnlyList<string> QueryTerms(string query)
    {
        var stems = new Dictionary<string, string>(StringComparer.Ordinal);
        return Retrieve.QueryTerms.Of(query).Select(t => StemOf(t, stems)).Distinct().ToList();
    }

    /// <summary>The best <paramref name="limit"/> documents for <paramref name="terms"/> (from <see cref="QueryTerms"/>).</summary>
    /// <param name="contextTerms">Terms of the conversation around the query; those not in <paramref name="terms"/> weigh <paramref name="contextWeight"/>.</param>
    public IReadOnlyList<RankedSpan> Search(
        IReadOnlyList<string> terms, RetrievalFilter filter, int limit, LexicalWeights weights, Bm25Parameters parameters,
        IReadOnlyList<string>? contextTerms = null, double contextWeight = 0)
    {
        var weighted = terms.ToDictionary(t => t, _ => 1.0, StringComparer.Ordinal);
        if (contextTerms is not null && contextWeight > 0)
        {
            foreach (var term in contextTerms)
            {
                weighted.TryAdd(term, contextWeight);
            }
        }

        var visible = Visible(filter);
        if (parameters.FeedbackDocs > 0 && parameters.FeedbackTerms > 0 && parameters.FeedbackWeight > 0)
        {
            var firstPass = Top(Score(weighted, weights, parameters, visible), parameters.FeedbackDocs, filter);
            foreach (var (term, weight) in Expansion(firstPass, weighted.Keys, parameters))
            {
                weighted[term] = weight;
            }
        }

        return Top(Score(weighted, weights, parameters, visible), limit, filter);
    }

    // The corpora whose spans count towards idf and the average length: those of filter.Corpora, or every corpus (null).
    // Counting a corpus the caller cannot read would let its text move the caller's scores: another tenant could learn
    // which words a tenant's documents hold by watching its own scores change. Corpus and PathPrefix do not narrow the
    // statistics (they restrict within what the caller may read, and evaluations compare runs with them over one index).
    private bool[]? Visible(RetrievalFilter filter)
    {
        if (filter.Corpora is not { } readable)
        {
            return null;
        }

        var visible = new bool[_corpusNames.Length];
        bool all = true;
        for (int c = 0; c < visible.Length; c++)
        {
            visible[c] = readable.Contains(_corpusNames[c]);
            all &= visible[c];
        }

        return all ? null : visible;
    }

    private (float[] Scores, int[] Touched, int Count) Score(Dictionary<string, double> terms, LexicalWeights weights, Bm25Parameters parameters, bool[]? visible)
    {
        // A score per row (124 KB at 31k spans) and the rows touched (a typical question touches half of them): new
        // arrays per query landed on the large-object heap and grew it between full collections, so both are pooled
        // and Top returns them.
        var scores = ArrayPool<float>.Shared.Rent(Keys.Length);
        Array.Clear(scores, 0, Keys.Length);
        var touched = ArrayPool<int>.Shared.Rent(Keys.Length);
        int count = 0;
        double[] fieldWeights = [weights.Title, weights.Heading, weights.Body];
        // Collection statistics over the visible corpora only (see Visible).
        int n = Keys.Length;
        double averageLength = _averageLength;
        if (visible is not null)
        {
            (n, long length) = (0, 0);
            for (int c = 0; c < visible.Length; c++)
            {
                if (visible[c])
                {
                    n += _corpusSpans[c];
                    length += _corpusLengths[c];
                }
            }

            averageLength = n == 0 ? 0 : (double)length / n;
        }

        foreach (var (term, termWeight) in terms)
        {
            if (!_postings.TryGetValue(term, out var postings))
            {
                continue;
            }

            int df = postings.Length;
            if (visible is not null)
            {
                df = 0;
                foreach (var p in postings)
                {
                    df += visible[_corpusOf[p.Doc]] ? 1 : 0;
                }

                if (df == 0)
                {
                    continue;
                }
            }

            // Common terms (in over half the spans) carry almost no evidence; FTS5 floors their idf the same way.
            double idf = termWeight * Math.Max(1e-6, Math.Log((n - df + 0.5) / (df + 0.5)));
            foreach (var p in postings)
            {
                if (visible is not null && !visible[_corpusOf[p.Doc]])
                {
                    continue;
                }

                double tf = fieldWeights[0] * p.Title + fieldWeights[1] * p.Heading + fieldWeights[2] * p.Body;
                double norm = 1 - parameters.B + parameters.B * (averageLength > 0 ? _totalLengths[p.Doc] / averageLength : 1);
                float add = (float)(idf * tf * (parameters.K1 + 1) / (tf + parameters.K1 * norm));
                // Only a positive part touches a row, so each row is listed once (a field weighted 0 adds nothing).
                if (add <= 0)
                {
                    continue;
                }

                if (scores[p.Doc] == 0)
                {
                    touched[count++] = p.Doc;
                }

                scores[p.Doc] += add;
            }
        }

        return (scores, touched, count);
    }

    // Takes the pass's pooled score buffer and returns it to the pool.
    private List<RankedSpan> Top((float[] Scores, int[] Touched, int Count) pass, int limit, RetrievalFilter filter)
    {
        var best = new TopK(limit);
        bool filtered = !filter.IsEmpty;
        try
        {
            foreach (int doc in pass.Touched.AsSpan(0, pass.Count))
            {
                if (pass.Scores[doc] > 0 && (!filtered || filter.Accepts(Keys[doc].Corpus, Keys[doc].Path)))
                {
                    best.Offer(pass.Scores[doc], doc, Keys);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(pass.Scores);
            ArrayPool<int>.Shared.Return(pass.Touched);
        }

        return best.Drain(Keys);
    }

    // RM3-style relevance model: p(t|R) = sum over feedback docs of p(d) * tf(t,d)/|d|, with p(d) proportional to the
    // first-pass score; the strongest new terms get weights relative to the strongest one.
    private IEnumerable<(string Term, double Weight)> Expansion(List<RankedSpan> feedback, IEnumerable<string> original, Bm25Parameters parameters)
    {
        double total = feedback.Sum(f => f.Score);
        if (total <= 0)
        {
            return [];
        }

        var model = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var hit in feedback)
        {
            int doc = RowOf[hit.Key.Id];
            var (terms, counts) = _forward[doc];
            double length = Math.Max(1, _totalLengths[doc]);
            for (int i = 0; i < terms.Length; i++)
            {
                if (!StemmedStopWords.Contains(terms[i]) && terms[i].Length > 1 && !terms[i].All(char.IsDigit))
                {
                    model[terms[i]] = model.GetValueOrDefault(terms[i]) + hit.Score / total * counts[i] / length;
                }
            }
        }

        var known = original.ToHashSet(StringComparer.Ordinal);
        var chosen = model.Where(m => !known.Contains(m.Key))
            .OrderByDescending(m => m.Value).ThenBy(m => m.Key, StringComparer.Ordinal)
            .Take(parameters.FeedbackTerms).ToList();
        double top = chosen.Count == 0 ? 0 : chosen[0].Value;
        return chosen.Select(m => (m.Key, parameters.FeedbackWeight * m.Value / top));
    }

    /// <summary>The stemmed terms of <paramref name="text"/>, in order, with repeats. Stop words stay: they count towards a span's length, as in FTS5.</summary>
    public static IEnumerable<string> Analyze(string text, Dictionary<string, string> stemCache)
    {
        var terms = new List<string>();
        foreach (var word in WordSplitter.Split(text))
        {
            if (word.Length > 64)
            {
                continue;
            }

            terms.Add(StemOf(word.ToString().ToLowerInvariant(), stemCache));
        }

        return terms;
    }

    private static string StemOf(string word, Dictionary<string, string> cache)
    {
        if (!cache.TryGetValue(word, out var stem))
        {
            cache[word] = stem = PorterStemmer.Stem(word);
        }

        return stem;
    }

    private static ushort Inc(ushort value) => value == ushort.MaxValue ? value : (ushort)(value + 1);

    private readonly record struct Analysed(string[] Terms, (ushort T, ushort H, ushort B)[] Frequencies, int Length);

    private readonly record struct Posting(int Doc, ushort Title, ushort Heading, ushort Body)
    {
        public int Frequency(int field) => field switch { 0 => Title, 1 => Heading, _ => Body };
    }
}
