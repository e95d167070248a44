using System.Globalization;
using ContextCompiler.Core.Pack;

namespace ContextCompiler.Core.Compile;

/// <summary>Applies <c>key=value</c> overrides (from <c>--set</c> or an HTTP body) to compiler options.</summary>
public static class CompilerOptionsParser
{
    /// <summary>The keys that <c>--set</c> understands.</summary>
    public static readonly IReadOnlyList<string> Keys =
    [
        "lexical", "k1", "b", "prfDocs", "prfTerms", "prfWeight", "fusion", "vectorWeight", "contextWeight", "contextVectors", "rrfK", "candidates", "titleWeight", "headingWeight", "bodyWeight", "minRelativeScore",
        "documentWeight", "maxSpansPerDocument", "mmrLambda", "redundancyCutoff", "order", "allowTruncation", "minTruncatedTokens", "packing", "topK",
    ];

    /// <summary>Returns <paramref name="options"/> with each <c>key=value</c> applied, validated.</summary>
    /// <exception cref="ArgumentException">An unknown key, a malformed value, or an invalid result.</exception>
    public static CompilerOptions Apply(CompilerOptions options, IEnumerable<string> assignments)
    {
        foreach (var assignment in assignments)
        {
            int eq = assignment.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new ArgumentException($"'{assignment}' is not key=value.");
            }

            options = Apply(options, assignment[..eq].Trim(), assignment[(eq + 1)..].Trim());
        }

        options.Validate();
        return options;
    }

    private static CompilerOptions Apply(CompilerOptions o, string key, string value) => key switch
    {
        "lexical" => o with { Lexical = value },
        "k1" => o with { Bm25 = o.Bm25 with { K1 = Number(key, value) } },
        "b" => o with { Bm25 = o.Bm25 with { B = Number(key, value) } },
        "prfDocs" => o with { Bm25 = o.Bm25 with { FeedbackDocs = Integer(key, value) } },
        "prfTerms" => o with { Bm25 = o.Bm25 with { FeedbackTerms = Integer(key, value) } },
        "prfWeight" => o with { Bm25 = o.Bm25 with { FeedbackWeight = Number(key, value) } },
        "fusion" => o with { Fusion = value },
        "vectorWeight" => o with { VectorWeight = Number(key, value) },
        "contextWeight" => o with { ContextWeight = Number(key, value) },
        "contextVectors" => o with { ContextVectors = value },
        "rrfK" => o with { RrfK = Integer(key, value) },
        "candidates" => o with { Candidates = Integer(key, value) },
        "titleWeight" => o with { LexicalWeights = o.LexicalWeights with { Title = Number(key, value) } },
        "headingWeight" => o with { LexicalWeights = o.LexicalWeights with { Heading = Number(key, value) } },
        "bodyWeight" => o with { LexicalWeights = o.LexicalWeights with { Body = Number(key, value) } },
        "minRelativeScore" => o with { MinRelativeScore = Number(key, value) },
        "documentWeight" => o with { DocumentWeight = Number(key, value) },
        "maxSpansPerDocument" => o with { MaxSpansPerDocument = Integer(key, value) },
        "mmrLambda" => o with { MmrLambda = Number(key, value) },
        "redundancyCutoff" => o with { RedundancyCutoff = Number(key, value) },
        "order" => o with { Order = Enum.TryParse<WorkingSetOrder>(value, ignoreCase: true, out var order) ? order : throw Bad(key, value, "score or document") },
        "allowTruncation" => o with { AllowTruncation = bool.TryParse(value, out var b) ? b : throw Bad(key, value, "true or false") },
        "minTruncatedTokens" => o with { MinTruncatedTokens = Integer(key, value) },
        "packing" => o with { Packing = value },
        "topK" => o with { TopK = Integer(key, value) },
        _ => throw new ArgumentException($"Unknown compiler option '{key}'. Known: {string.Join(", ", Keys)}."),
    };

    private static double Number(string key, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : throw Bad(key, value, "a number");

    private static int Integer(string key, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : throw Bad(key, value, "an integer");

    private static ArgumentException Bad(string key, string value, string expected) =>
        new($"Compiler option '{key}' must be {expected}, not '{value}'.");
}
