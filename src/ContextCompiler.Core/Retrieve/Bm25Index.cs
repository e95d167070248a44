using ContextCompiler.Core.Embedding;

namespace ContextCompiler.Core.Retrieve;

/// <summary>BM25 saturation and length normalisation (Anserini's defaults: k1 = 0.9, b = 0.4).</summary>
public sealed record Bm25Parameters(double K1 = 0.9, double B = 0.4);

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
    private readonly Dictionary<string, Posting[]> _postings;
    private readonly int[] _totalLengths;
    private readonly double _averageLength;

    private Bm25Index(SpanKey[] keys, Dictionary<string, Posting[]> postings, int[] totalLengths)
    {
        Keys = keys;
        _postings = postings;
        _totalLengths = totalLengths;
        _averageLength = totalLengths.Length == 0 ? 0 : totalLengths.Average();
    }

    /// <summary>The documents' keys, by row.</summary>
    public SpanKey[] Keys { get; }

    /// <summary>Number of distinct terms.</summary>
    public int Terms => _postings.Count;

    /// <summary>Indexes <paramref name="documents"/>.</summary>
    public static Bm25Index Build(IReadOnlyList<Bm25Document> documents)
    {
        var lists = new Dictionary<string, List<Posting>>(StringComparer.Ordinal);
        var lengths = new int[documents.Count * Fields];
        var totals = new double[Fields];
        var stems = new Dictionary<string, string>(StringComparer.Ordinal);
        var counts = new Dictionary<string, (ushort T, ushort H, ushort B)>(StringComparer.Ordinal);
        for (int doc = 0; doc < documents.Count; doc++)
        {
            counts.Clear();
            var d = documents[doc];
            lengths[doc * Fields] = Count(d.Title, 0);
            lengths[doc * Fields + 1] = Count(d.Heading, 1);
            lengths[doc * Fields + 2] = Count(d.Body, 2);
            for (int f = 0; f < Fields; f++)
            {
                totals[f] += lengths[doc * Fields + f];
            }

            foreach (var (term, tf) in counts)
            {
                if (!lists.TryGetValue(term, out var list))
                {
                    lists[term] = list = [];
                }

                list.Add(new Posting(doc, tf.T, tf.H, tf.B));
            }

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

        var totalLengths = Enumerable.Range(0, documents.Count).Select(d => lengths[d * Fields] + lengths[d * Fields + 1] + lengths[d * Fields + 2]).ToArray();
        return new Bm25Index(documents.Select(d => d.Key).ToArray(), lists.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal), totalLengths);
    }

    /// <summary>The analysed terms of a query: stop words dropped, stemmed, each once.</summary>
    public static IReadOnlyList<string> QueryTerms(string query)
    {
        var stems = new Dictionary<string, string>(StringComparer.Ordinal);
        return Retrieve.QueryTerms.Of(query).Select(t => StemOf(t, stems)).Distinct().ToList();
    }

    /// <summary>The best <paramref name="limit"/> documents for <paramref name="terms"/> (from <see cref="QueryTerms"/>).</summary>
    public IReadOnlyList<RankedSpan> Search(
        IReadOnlyList<string> terms, RetrievalFilter filter, int limit, LexicalWeights weights, Bm25Parameters parameters,
        IReadOnlyDictionary<string, double>? termWeights = null)
    {
        int n = Keys.Length;
        var scores = new float[n];
        var touched = new List<int>();
        double[] fieldWeights = [weights.Title, weights.Heading, weights.Body];
        foreach (var term in terms)
        {
            if (!_postings.TryGetValue(term, out var postings))
            {
                continue;
            }

            // Common terms (in over half the spans) carry almost no evidence; FTS5 floors their idf the same way.
            double idf = Math.Max(1e-6, Math.Log((n - postings.Length + 0.5) / (postings.Length + 0.5)));
            if (termWeights is not null && termWeights.TryGetValue(term, out var extra))
            {
                idf *= extra;
            }

            foreach (var p in postings)
            {
                double tf = fieldWeights[0] * p.Title + fieldWeights[1] * p.Heading + fieldWeights[2] * p.Body;
                double norm = 1 - parameters.B + parameters.B * (_averageLength > 0 ? _totalLengths[p.Doc] / _averageLength : 1);
                if (scores[p.Doc] == 0)
                {
                    touched.Add(p.Doc);
                }

                scores[p.Doc] += (float)(idf * tf * (parameters.K1 + 1) / (tf + parameters.K1 * norm));
            }
        }

        var best = new TopK(limit);
        bool filtered = filter.Corpus is not null || filter.PathPrefix is not null;
        foreach (int doc in touched)
        {
            if (scores[doc] > 0 && (!filtered || filter.Accepts(Keys[doc].Corpus, Keys[doc].Path)))
            {
                best.Offer(scores[doc], doc, Keys);
            }
        }

        return best.Drain(Keys);
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

    private readonly record struct Posting(int Doc, ushort Title, ushort Heading, ushort Body)
    {
        public int Frequency(int field) => field switch { 0 => Title, 1 => Heading, _ => Body };
    }
}
