using System.Text.Json;

namespace ContextCompiler.Client;

/// <summary>The body of <c>POST /v1/compile</c>: a query compiled into a working set of at most <paramref name="Budget"/> tokens.</summary>
/// <param name="Corpus">Only spans of this corpus; null for every corpus.</param>
/// <param name="PathPrefix">Only spans whose path starts with this.</param>
/// <param name="Options">Compiler option overrides, keyed as the CLI's <c>--set</c> (for example <c>vectorWeight</c>).</param>
/// <param name="Explain">Also return every candidate's fate and each stage's timing.</param>
/// <param name="Tokenizer">Count the budget in this encoding's or model's tokens (o200k_base, gpt-4o, …); null for the service's.</param>
public sealed record CompileRequest(
    string Query, int Budget, string? Corpus = null, string? PathPrefix = null, IReadOnlyDictionary<string, JsonElement>? Options = null,
    bool? Explain = null, string? Tokenizer = null);

/// <summary>The compiled context for one query: cited spans rendered within an exact token budget.</summary>
/// <param name="RetrievalQuery">The text actually used for retrieval (in a session it may carry the conversation).</param>
/// <param name="Text">The rendered working set, to put in a prompt as it is.</param>
/// <param name="TokenCount">Exact tokens of <paramref name="Text"/>; never above <paramref name="Budget"/>.</param>
/// <param name="Reason">Why the working set is empty, when it is.</param>
/// <param name="RetrievalContext">The conversation that joined retrieval, if any.</param>
/// <param name="RetrievalContextMessages">The messages that conversation joins, each embedded on its own; null for none.</param>
public sealed record WorkingSet(
    string Query, string RetrievalQuery, string Text, int TokenCount, int Budget, double Utilization,
    IReadOnlyList<Citation> Citations, Manifest Manifest, string? Reason = null, CompileExplanation? Explain = null, string? RetrievalContext = null,
    IReadOnlyList<string>? RetrievalContextMessages = null);

/// <summary>One cited block of a working set; <c>[N]</c> in <see cref="WorkingSet.Text"/> and in a reply refers to it.</summary>
/// <param name="Tokens">The block's share of the text (header, lines and following separator).</param>
/// <param name="Truncated">Only a line-boundary prefix of the span fitted.</param>
public sealed record Citation(int N, string Corpus, string Path, int StartLine, int EndLine, double Score, int Tokens, bool Truncated);

/// <summary>What produced a working set, so that it can be reproduced and compared.</summary>
/// <param name="Config">Every compiler setting used, as the server sent it. Kept as JSON because the set of tuning
/// knobs belongs to the server and grows; a typed copy here would drop the ones it does not know.</param>
/// <param name="ContextHash">sha256 of the working set's text, lower-case hex.</param>
/// <param name="VectorCoverage">How much of the index had vectors at compile time.</param>
public sealed record Manifest(string Tokenizer, string EmbeddingModel, string IndexVersion, JsonElement Config, string ContextHash, VectorCoverage? VectorCoverage = null);

/// <summary>Spans with a vector out of all spans, at one moment.</summary>
public sealed record VectorCoverage(int Spans, int WithVectors, bool Complete);

/// <summary>Every retrieval candidate's fate and every stage's timing (sent when a request asks to explain).</summary>
public sealed record CompileExplanation(string LexicalQuery, IReadOnlyList<ExplainCandidate> Candidates, IReadOnlyList<StageTiming> Timings);

/// <summary>A candidate from either retriever. <see cref="Outcome"/> is "included", "merged" or "dropped" (with a <see cref="Reason"/>).</summary>
public sealed record ExplainCandidate(
    string Corpus, string Path, int StartLine, int EndLine, double? LexicalScore, int? LexicalRank, double? VectorScore,
    int? VectorRank, double FusedScore, string Outcome, string? Reason, string? Detail, int? Citation);

/// <summary>Time spent in one compile stage.</summary>
public sealed record StageTiming(string Stage, double Milliseconds);
