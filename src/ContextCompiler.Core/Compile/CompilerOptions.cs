using ContextCompiler.Core.Pack;
using ContextCompiler.Core.Retrieve;

namespace ContextCompiler.Core.Compile;

/// <summary>
/// Every setting of a compile, recorded whole in each working set's manifest. The defaults were tuned on
/// dev questions only (see benchmarks/RESULTS.md); the held-out questions were never used for tuning.
/// </summary>
public sealed record CompilerOptions
{
    /// <summary>"linear" (min-max normalised scores) or "rrf" (reciprocal rank).</summary>
    public string Fusion { get; init; } = "linear";

    /// <summary>
    /// Weight of the vector ranking in the fusion, 0..1; 0 means BM25 alone. With all-MiniLM-L6-v2 vectors, 0.5 was best
    /// on SciFact train (nDCG@10 0.744 against 0.700 for BM25 alone; 0.3: 0.730, 0.4: 0.739, 0.6: 0.740) and is checked
    /// on the SQLite-docs dev questions and dialogs (benchmarks/RESULTS.md). GloVe-SIF vectors wanted 0.1.
    /// </summary>
    public double VectorWeight { get; init; } = 0.5;

    /// <summary>
    /// Weight of the conversation's terms and vector next to the query's own (1): a follow-up's context counts, but less.
    /// 0.6 (from 0.5) came with "messages" context vectors: on the dialogs dev split, follow-ups found their page at 250
    /// and 500 tokens 0.809 and 0.915 of the time, against 0.745 and 0.851 at 0.5 (benchmarks/RESULTS.md, issue 19).
    /// </summary>
    public double ContextWeight { get; init; } = 0.6;

    /// <summary>
    /// How the conversation's vector is formed: "messages" (the default), the normalised mean of each context message's
    /// own embedding, or "joined", one embedding of the messages joined into one text (before issue 19). Each message is
    /// embedded once and remembered, so a turn runs the model for its new message alone; "joined" embedded a new text,
    /// the whole conversation, on every turn.
    /// </summary>
    public string ContextVectors { get; init; } = "messages";

    /// <summary>The k of reciprocal rank fusion.</summary>
    public int RrfK { get; init; } = 60;

    /// <summary>
    /// Candidates taken from each retriever. 100 (from 40) when spans became small (64 tokens): a page's answer is then
    /// spread over more spans, and on the naive dev questions 100 found the right page more often at every budget.
    /// </summary>
    public int Candidates { get; init; } = 100;

    /// <summary>The lexical retriever: "bm25" (in-memory BM25F, tunable) or "fts5" (SQLite's bm25()).</summary>
    public string Lexical { get; init; } = "bm25";

    /// <summary>
    /// BM25 k1 and b (the "bm25" retriever only). 1.2 and 0.75 (FTS5's own values) were the best compromise of the
    /// SQLite-docs dev questions (best at k1 = 1.5) and SciFact's train queries (best at k1 = 0.9).
    /// </summary>
    public Bm25Parameters Bm25 { get; init; } = new(K1: 1.2, B: 0.75);

    /// <summary>BM25 weights of the path, the heading trail and the body.</summary>
    public LexicalWeights LexicalWeights { get; init; } = new();

    /// <summary>Candidates scoring below this fraction of the best are dropped.</summary>
    public double MinRelativeScore { get; init; } = 0.05;

    /// <summary>
    /// Spans of one document offered to the packer before every other document's (<see cref="Select.DocumentSpread"/>);
    /// 0 keeps the ranking's order. 2 by default: small budgets otherwise go to neighbouring spans of two or three pages.
    /// 1 found one to three more naive dev pages but cost SQuAD's answer-span recall 0.08 at 1000 tokens (a paragraph's
    /// answer often sits in its second or third span); 2 kept that within 0.015 (benchmarks/RESULTS.md, issue 18).
    /// </summary>
    public int MaxSpansPerDocument { get; init; } = 2;

    /// <summary>
    /// How much a document's other candidates add to each of its spans' fused scores (<see cref="Fuse.DocumentSupport"/>);
    /// 0, the default, switches it off. Measured and not kept: at 0.15 SciFact train nDCG@10 rose from 0.744 to 0.749
    /// and the naive dev questions found one or two pages more, but SQuAD's nDCG@10 fell from 0.907 to 0.898, because
    /// the sum favours documents cut into more spans.
    /// </summary>
    public double DocumentWeight { get; init; }

    /// <summary>
    /// The value each setting had before manifests recorded it: a working set stored before a setting existed was
    /// compiled without it, so reading its manifest must not give it today's default (see <see cref="RecordedConfigConverter"/>).
    /// </summary>
    public static IReadOnlyDictionary<string, object> BeforeRecorded { get; } = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase)
    {
        ["maxSpansPerDocument"] = 0,
        ["documentWeight"] = 0.0,
        ["contextVectors"] = "joined",
    };

    /// <summary>MMR trade-off between relevance and diversity; 1 switches MMR off.</summary>
    public double MmrLambda { get; init; } = 1.0;

    /// <summary>With MMR on, a candidate this similar (cosine) to a taken one is dropped as redundant.</summary>
    public double RedundancyCutoff { get; init; } = 0.97;

    /// <summary>Order of the blocks in the text.</summary>
    public WorkingSetOrder Order { get; init; } = WorkingSetOrder.Score;

    /// <summary>
    /// "exact" (ours: skip what does not fit, merge neighbours, fill with a prefix), or the baselines
    /// "greedy-stop" (stop at the first span that does not fit) and "topk-truncate" (top k spans, text cut to the budget).
    /// </summary>
    public string Packing { get; init; } = "exact";

    /// <summary>How many spans "topk-truncate" renders before cutting.</summary>
    public int TopK { get; init; } = 10;

    /// <summary>Allow a line-boundary prefix of a span that does not fit whole.</summary>
    public bool AllowTruncation { get; init; } = true;

    /// <summary>The smallest truncated prefix worth admitting, in tokens.</summary>
    public int MinTruncatedTokens { get; init; } = 24;

    /// <summary>Throws <see cref="ArgumentException"/> for settings that cannot work.</summary>
    public void Validate()
    {
        Check(Fusion is "linear" or "zscore" or "rrf", $"fusion must be 'linear', 'zscore' or 'rrf', not '{Fusion}'");
        Check(Packing is "exact" or "greedy-stop" or "topk-truncate", $"packing must be 'exact', 'greedy-stop' or 'topk-truncate', not '{Packing}'");
        Check(TopK >= 1, "topK must be at least 1");
        Check(ContextVectors is "messages" or "joined", $"contextVectors must be 'messages' or 'joined', not '{ContextVectors}'");
        Check(Lexical is "bm25" or "fts5", $"lexical must be 'bm25' or 'fts5', not '{Lexical}'");
        Check(Bm25.K1 >= 0 && Bm25.B is >= 0 and <= 1, "bm25 k1 must be non-negative and b between 0 and 1");
        Check(Bm25.FeedbackDocs is >= 0 and <= 100 && Bm25.FeedbackTerms is >= 0 and <= 100 && Bm25.FeedbackWeight >= 0,
            "prfDocs and prfTerms must be between 0 and 100, prfWeight non-negative");
        Check(VectorWeight is >= 0 and <= 1, "vectorWeight must be between 0 and 1");
        Check(ContextWeight is >= 0 and <= 1, "contextWeight must be between 0 and 1");
        Check(RrfK >= 1, "rrfK must be at least 1");
        Check(Candidates is >= 1 and <= 1000, "candidates must be between 1 and 1000");
        Check(MinRelativeScore is >= 0 and <= 1, "minRelativeScore must be between 0 and 1");
        Check(MmrLambda is >= 0 and <= 1, "mmrLambda must be between 0 and 1");
        Check(RedundancyCutoff is > 0 and <= 1, "redundancyCutoff must be in (0, 1]");
        Check(MinTruncatedTokens >= 1, "minTruncatedTokens must be at least 1");
        Check(DocumentWeight is >= 0 and <= 10, "documentWeight must be between 0 (off) and 10");
        Check(MaxSpansPerDocument is >= 0 and <= 1000, "maxSpansPerDocument must be between 0 (off) and 1000");
        Check(LexicalWeights.Title >= 0 && LexicalWeights.Heading >= 0 && LexicalWeights.Body > 0, "lexical weights must be non-negative, body positive");
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException($"Invalid compiler option: {message}.");
        }
    }
}
