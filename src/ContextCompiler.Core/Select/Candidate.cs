using ContextCompiler.Core.Fuse;
using ContextCompiler.Core.Retrieve;

namespace ContextCompiler.Core.Select;

/// <summary>A fused candidate with its stored span and embedding, on its way to the packer.</summary>
public sealed record Candidate(FusedCandidate Fused, SpanRecord Span, float[]? Vector)
{
    /// <summary>The span's citation key.</summary>
    public SpanKey Key => Span.Key;

    /// <summary>The fused relevance score.</summary>
    public double Score => Fused.Score;
}

/// <summary>Why a candidate is not in the working set; the names are what <c>explain</c> reports.</summary>
public static class DropReasons
{
    public const string OverBudget = "over budget";
    public const string Duplicate = "duplicate";
    public const string Redundant = "redundant by MMR";
    public const string BelowThreshold = "below threshold";
}

/// <summary>A candidate that a stage removed, and why.</summary>
public sealed record DroppedCandidate(SpanKey Key, double Score, string Stage, string Reason, string? Detail = null);
