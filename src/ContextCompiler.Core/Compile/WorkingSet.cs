using System.Text.Json.Serialization;

namespace ContextCompiler.Core.Compile;

/// <summary>The compiled context for one query: cited spans rendered within an exact token budget.</summary>
/// <param name="Query">The query as the caller gave it.</param>
/// <param name="RetrievalQuery">The text actually used for retrieval (a conversation may extend the query).</param>
/// <param name="Text">The rendered working set.</param>
/// <param name="TokenCount">Exact tokens of <paramref name="Text"/>; never above <paramref name="Budget"/>.</param>
/// <param name="Utilization">TokenCount / Budget.</param>
/// <param name="Reason">Why the working set is empty, when it is.</param>
public sealed record WorkingSet(
    string Query, string RetrievalQuery, string Text, int TokenCount, int Budget, double Utilization,
    IReadOnlyList<Citation> Citations, Manifest Manifest, string? Reason = null, Explain? Explain = null)
{
    /// <summary>The conversation that joined retrieval, weighted below the query (<see cref="CompilerOptions.ContextWeight"/>); null for none.</summary>
    public string? RetrievalContext { get; init; }

    /// <summary>The messages <see cref="RetrievalContext"/> joins, each embedded on its own (<see cref="CompilerOptions.ContextVectors"/>); null for none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? RetrievalContextMessages { get; init; }
}

/// <summary>One cited block. <see cref="Tokens"/> is its share of the text (header, lines and following separator).</summary>
public sealed record Citation(int N, string Corpus, string Path, int StartLine, int EndLine, double Score, int Tokens, bool Truncated);

/// <summary>What produced a working set, so it can be reproduced and compared.</summary>
/// <param name="ContextHash">sha256 of the working set's text, lower-case hex.</param>
/// <param name="VectorCoverage">How much of the index had vectors when it was compiled: vectors are filled in after
/// the text is indexed, so a difference on replay or recompile can come from vectors that were not there yet.</param>
public sealed record Manifest(
    string Tokenizer, string EmbeddingModel, string IndexVersion, [property: JsonConverter(typeof(RecordedConfigConverter))] CompilerOptions Config, string ContextHash, VectorCoverage? VectorCoverage = null);

/// <summary>Spans with a vector out of all spans, at one moment.</summary>
public sealed record VectorCoverage(int Spans, int WithVectors)
{
    /// <summary>True when every span has its vector.</summary>
    public bool Complete => WithVectors >= Spans;
}

/// <summary>Every candidate's fate and every stage's timing.</summary>
public sealed record Explain(string LexicalQuery, IReadOnlyList<ExplainCandidate> Candidates, IReadOnlyList<StageTiming> Timings);

/// <summary>
/// A candidate from either retriever. <see cref="Outcome"/> is "included", "merged" (its lines joined a block),
/// or "dropped" with a <see cref="Reason"/>: over budget, duplicate, redundant by MMR, or below threshold.
/// </summary>
public sealed record ExplainCandidate(
    string Corpus, string Path, int StartLine, int EndLine, double? LexicalScore, int? LexicalRank, double? VectorScore,
    int? VectorRank, double FusedScore, string Outcome, string? Reason, string? Detail, int? Citation);

/// <summary>Time spent in one stage, in milliseconds.</summary>
public sealed record StageTiming(string Stage, double Milliseconds);

/// <summary>Identity of the index a compile ran against, and how much of it had vectors.</summary>
public sealed record IndexIdentity(string EmbeddingModel, string Version, VectorCoverage? Vectors = null);
