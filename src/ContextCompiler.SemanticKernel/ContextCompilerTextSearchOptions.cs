namespace ContextCompiler.SemanticKernel;

/// <summary>How <see cref="ContextCompilerTextSearch"/> compiles each search.</summary>
public sealed class ContextCompilerTextSearchOptions
{
    /// <summary>The token budget of the working set each search compiles; 2000 by default.</summary>
    /// <remarks>
    /// The budget decides which spans are cited; a search's <c>Top</c> and <c>Skip</c> then page through those citations.
    /// A larger budget lets later pages hold more results.
    /// </remarks>
    public int Budget { get; set; } = 2000;

    /// <summary>Only spans of this corpus; null (the default) for every corpus. A search's <c>corpus</c> filter overrides it.</summary>
    public string? Corpus { get; set; }

    /// <summary>Only spans whose path starts with this; null (the default) for every path. A search's <c>pathPrefix</c> filter overrides it.</summary>
    public string? PathPrefix { get; set; }

    /// <summary>The encoding or model the budget is counted in; null (the default) for the service's.</summary>
    public string? Tokenizer { get; set; }
}
