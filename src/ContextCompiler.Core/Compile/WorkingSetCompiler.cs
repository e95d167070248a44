using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using ContextCompiler.Core.Embedding;
using ContextCompiler.Core.Fuse;
using ContextCompiler.Core.Pack;
using ContextCompiler.Core.Retrieve;
using ContextCompiler.Core.Select;
using ContextCompiler.Core.Telemetry;
using ContextCompiler.Core.Tokenization;
using Microsoft.Extensions.AI;

namespace ContextCompiler.Core.Compile;

/// <summary>
/// Compiles a query into a working set: retrieve (BM25 and vectors) → fuse → select (threshold, duplicates, MMR)
/// → pack into the exact budget → render with citations. Deterministic: the same index, query and options give
/// byte-identical text.
/// </summary>
/// <param name="queryEmbedder">Embeds retrieval queries (with the model's query prefix, and usually a cache in front).</param>
/// <param name="tokenizers">Resolves a request's tokenizer name (an encoding or a model name); null accepts none but the default.</param>
/// <param name="readScope">
/// Opens a scope, held for one compile, in which the retrievers, the vectors and the index identity all read one state
/// of the index (a store with an in-memory copy pins that copy); null when each call reads the store as it is then.
/// </param>
public sealed class WorkingSetCompiler(
    IEnumerable<ILexicalRetriever> lexical,
    IVectorRetriever vectors,
    ISpanCatalog catalog,
    IEmbeddingGenerator<string, Embedding<float>> queryEmbedder,
    ITokenizer tokenizer,
    Func<IndexIdentity> index,
    Func<string, ITokenizer>? tokenizers = null,
    Func<IDisposable>? readScope = null)
{
    /// <summary>The tokenizer named <paramref name="name"/> (an encoding or a model name), or the compiler's own for null.</summary>
    /// <exception cref="ArgumentException">An unknown name.</exception>
    public ITokenizer TokenizerFor(string? name) =>
        string.IsNullOrEmpty(name) || name == tokenizer.Name ? tokenizer
        : tokenizers is not null ? tokenizers(name)
        : throw new ArgumentException($"This compiler counts only in {tokenizer.Name}, not '{name}'.");

    private readonly Dictionary<string, ILexicalRetriever> _lexical = lexical.ToDictionary(r => r.Name, StringComparer.Ordinal);

    /// <summary>Compiles <paramref name="request"/>; an impossible budget gives an empty set with a reason.</summary>
    /// <exception cref="ArgumentException">The query is blank, the budget below 1, or an option invalid.</exception>
    public async Task<WorkingSet> CompileAsync(CompileRequest request, CancellationToken cancellationToken = default)
    {
        var (options, filter, retrievalQuery, context) = Validated(request);
        using var view = readScope?.Invoke();
        var counter = TokenizerFor(request.Tokenizer);
        var terms = QueryTerms.Of(retrievalQuery);
        var started = Stopwatch.GetTimestamp();
        using var activity = Instrumentation.Source.StartActivity("compile");
        activity?.SetTag(Tags.Budget, request.Budget);
        activity?.SetTag(Tags.Tokenizer, counter.Name);
        activity?.SetTag(Tags.Lexical, options.VectorWeight < 1 ? options.Lexical : null);
        var stages = new StageClock(activity?.Context ?? default);

        var fused = await FuseAsync(options, filter, retrievalQuery, context, request.RetrievalContextMessages, stages, cancellationToken);
        stages.Enter("select");

        var ids = fused.Select(f => f.Key.Id).ToList();
        var spans = catalog.Get(ids);
        // Only MMR compares candidates' embeddings.
        var embeddings = options.MmrLambda < 1 ? vectors.VectorsOf(ids) : null;
        // A span id the retrievers found must still be that span: an id freed by a deletion can be given to another
        // document's span (even another tenant's) before the in-memory copy catches up, and its text must not come back.
        var candidates = fused.Where(f => spans.TryGetValue(f.Key.Id, out var span) && span.Key == f.Key)
            .Select(f => new Candidate(f, spans[f.Key.Id], embeddings?.GetValueOrDefault(f.Key.Id)))
            .ToList();
        var dropped = new List<DroppedCandidate>();
        var selected = CandidateFilter.Apply(candidates, options.MinRelativeScore, dropped);
        selected = MmrReranker.Apply(selected, options.MmrLambda, options.RedundancyCutoff, dropped);
        selected = DocumentSpread.Apply(selected, options.MaxSpansPerDocument);
        stages.Enter("pack");

        var packed = options.Packing switch
        {
            "greedy-stop" => BaselinePackers.GreedyStop(counter, selected, request.Budget, dropped),
            "topk-truncate" => BaselinePackers.TopKThenTruncate(counter, selected, request.Budget, options.TopK, dropped),
            _ => new BudgetPacker(counter).Pack(selected, request.Budget, options.Order, options.AllowTruncation, options.MinTruncatedTokens, terms, dropped),
        };
        stages.Enter("render");

        var citations = packed.Rendered.Select((r, i) => new Citation(
            i + 1, r.Block.Corpus, r.Block.Path, r.Block.StartLine, r.Block.EndLine, Round(r.Block.Score), r.Tokens, r.Block.Truncated)).ToList();
        var identity = index();
        var manifest = new Manifest(counter.Name, identity.EmbeddingModel, identity.Version, options, Sha256(packed.Text), identity.Vectors);
        stages.End();

        activity?.SetTag(Tags.Candidates, candidates.Count);
        activity?.SetTag(Tags.Citations, citations.Count);
        activity?.SetTag(Tags.TokensUsed, packed.TokenCount);
        Instrumentation.Compiles.Add(1);
        Instrumentation.CompileDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        var explain = request.Explain ? ExplainOf(string.Join(" OR ", terms), candidates, packed, dropped, stages.Timings) : null;
        return new WorkingSet(request.Query, retrievalQuery, packed.Text, packed.TokenCount, request.Budget,
            Round((double)packed.TokenCount / request.Budget), citations, manifest, packed.Reason, explain)
        {
            RetrievalContext = context,
            RetrievalContextMessages = context is null ? null : request.RetrievalContextMessages,
        };
    }

    /// <summary>
    /// Only the first stages of <see cref="CompileAsync"/>: retrieve with the request's options and fuse, returning the ranked
    /// candidates before selection and packing (the budget is not used). Evaluations rank documents with this.
    /// </summary>
    /// <exception cref="ArgumentException">The query is blank, the budget below 1, or an option invalid.</exception>
    public async Task<IReadOnlyList<FusedCandidate>> RetrieveAsync(CompileRequest request, CancellationToken cancellationToken = default)
    {
        var (options, filter, retrievalQuery, context) = Validated(request);
        using var view = readScope?.Invoke();
        var stages = new StageClock(Activity.Current?.Context ?? default);
        var fused = await FuseAsync(options, filter, retrievalQuery, context, request.RetrievalContextMessages, stages, cancellationToken);
        stages.End();
        return fused;
    }

    private static (CompilerOptions Options, RetrievalFilter Filter, string RetrievalQuery, string? Context) Validated(CompileRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.Query))
        {
            throw new ArgumentException("The query must not be empty.", nameof(request));
        }

        if (request.Budget < 1)
        {
            throw new ArgumentException($"The budget must be at least 1 token, not {request.Budget}.", nameof(request));
        }

        var options = request.Options ?? new CompilerOptions();
        options.Validate();
        string retrievalQuery = string.IsNullOrWhiteSpace(request.RetrievalQuery) ? request.Query : request.RetrievalQuery;
        string? context = string.IsNullOrWhiteSpace(request.RetrievalContext) ? null : request.RetrievalContext;
        return (options, request.Filter ?? new RetrievalFilter(), retrievalQuery, context);
    }

    // Retrieve (BM25 unless the vector weight is 1, vectors unless it is 0) → fuse, each a stage of its own; fuse stays
    // open, to be ended by the caller's next stage.
    private async Task<IReadOnlyList<FusedCandidate>> FuseAsync(
        CompilerOptions options, RetrievalFilter filter, string retrievalQuery, string? context, IReadOnlyList<string>? contextMessages, StageClock stages,
        CancellationToken cancellationToken)
    {
        stages.Enter("retrieve.lexical");
        var lexicalHits = options.VectorWeight < 1
            ? LexicalRetriever(options.Lexical).Search(new LexicalRequest(retrievalQuery, filter, options.Candidates, options.LexicalWeights, options.Bm25)
            {
                Context = context,
                ContextWeight = options.ContextWeight,
            })
            : [];
        stages.Enter("retrieve.vector");
        var vectorHits = options.VectorWeight > 0
            ? vectors.Search(await QueryVectorAsync(retrievalQuery, ContextParts(options, context, contextMessages), options.ContextWeight, cancellationToken), filter, options.Candidates)
            : [];

        stages.Enter("fuse");
        var fused = Fusions.Create(options.Fusion, options.VectorWeight, options.RrfK).Fuse(lexicalHits, vectorHits);
        return DocumentSupport.Apply(fused, options.DocumentWeight);
    }

    // The texts whose embeddings form the conversation's vector: each message on its own, or the joined context as one.
    private static IReadOnlyList<string> ContextParts(CompilerOptions options, string? context, IReadOnlyList<string>? messages)
    {
        if (context is null)
        {
            return [];
        }

        var parts = options.ContextVectors == "messages" ? messages?.Where(m => !string.IsNullOrWhiteSpace(m)).ToList() : null;
        return parts is { Count: > 0 } ? parts : [context];
    }

    // The query's vector, moved towards the conversation's by the context weight: q + w·c, normalised, where c is the
    // normalised mean of the context parts' vectors. One call embeds them all, so the cache in front of the model answers
    // the messages it has seen (earlier turns' queries, replies warmed when stored) and the model runs for the rest.
    private async Task<float[]> QueryVectorAsync(string query, IReadOnlyList<string> context, double weight, CancellationToken cancellationToken)
    {
        if (context.Count == 0 || weight <= 0)
        {
            return (await queryEmbedder.GenerateVectorAsync(query, cancellationToken: cancellationToken)).ToArray();
        }

        var embedded = await queryEmbedder.GenerateAsync([query, .. context], cancellationToken: cancellationToken);
        var vector = embedded[0].Vector.ToArray();
        // One part is used as the model gave it, so a "joined" context gives the very vector it gave before.
        var around = embedded[1].Vector.ToArray();
        if (embedded.Count > 2)
        {
            // Each part weighs by its length: the model pools over tokens, so a joined text's vector is close to its
            // parts' vectors weighted by their lengths (an equal mean let a one-line question outweigh a long reply).
            VectorMath.Scale(around, context[0].Length);
            for (int p = 2; p < embedded.Count; p++)
            {
                var part = embedded[p].Vector.Span;
                float length = context[p - 1].Length;
                for (int i = 0; i < around.Length; i++)
                {
                    around[i] += length * part[i];
                }
            }

            VectorMath.Normalize(around);
        }

        for (int i = 0; i < vector.Length; i++)
        {
            vector[i] += (float)weight * around[i];
        }

        VectorMath.Normalize(vector);
        return vector;
    }

    private ILexicalRetriever LexicalRetriever(string name) =>
        _lexical.TryGetValue(name, out var retriever)
            ? retriever
            : throw new ArgumentException($"No lexical retriever named '{name}'; known: {string.Join(", ", _lexical.Keys)}.");

    private static Explain ExplainOf(
        string lexicalQuery, List<Candidate> candidates, PackResult packed, List<DroppedCandidate> dropped, IReadOnlyList<StageTiming> timings)
    {
        var citationOf = new Dictionary<long, (int N, bool Opened)>();
        for (int i = 0; i < packed.Blocks.Count; i++)
        {
            var sources = packed.Blocks[i].Sources;
            for (int s = 0; s < sources.Count; s++)
            {
                citationOf[sources[s].Id] = (i + 1, s == 0);
            }
        }

        var drops = dropped.GroupBy(d => d.Key.Id).ToDictionary(g => g.Key, g => g.Last());
        var entries = candidates.Select(c =>
        {
            var f = c.Fused;
            string outcome;
            string? reason = null, detail = null;
            int? n = null;
            if (citationOf.TryGetValue(c.Key.Id, out var cited))
            {
                (outcome, n) = (cited.Opened ? "included" : "merged", cited.N);
            }
            else if (drops.TryGetValue(c.Key.Id, out var drop))
            {
                (outcome, reason, detail) = ("dropped", drop.Reason, drop.Detail);
            }
            else
            {
                throw new InvalidOperationException($"Candidate {c.Key} was neither packed nor dropped; a stage lost it.");
            }

            return new ExplainCandidate(c.Key.Corpus, c.Key.Path, c.Key.StartLine, c.Span.EndLine, Round(f.LexicalScore), f.LexicalRank,
                Round(f.VectorScore), f.VectorRank, Round(f.Score), outcome, reason, detail, n);
        }).ToList();
        return new Explain(lexicalQuery, entries, timings);
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    // Scores are rounded so that JSON output is stable across platforms' last-bit float differences.
    private static double Round(double value) => Math.Round(value, 6);

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 6) : null;
}
