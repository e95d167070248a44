using ContextCompiler.Core.Retrieve;

namespace ContextCompiler.Core.Compile;

/// <summary>A request for a working set.</summary>
/// <param name="Query">What the context is for.</param>
/// <param name="Budget">Tokens the whole rendered working set may take; at least 1.</param>
/// <param name="RetrievalQuery">Text to retrieve with, when it differs from the query (for example a follow-up with its conversation).</param>
public sealed record CompileRequest(
    string Query, int Budget, RetrievalFilter? Filter = null, CompilerOptions? Options = null, bool Explain = false, string? RetrievalQuery = null);
