using ContextCompiler.Core.Retrieve;

namespace ContextCompiler.Core.Compile;

/// <summary>A request for a working set.</summary>
/// <param name="Query">What the context is for.</param>
/// <param name="Budget">Tokens the whole rendered working set may take; at least 1.</param>
/// <param name="RetrievalQuery">Text to retrieve with, when it differs from the query.</param>
/// <param name="RetrievalContext">
/// The conversation around the query (recent user messages and the assistant's last reply). It joins retrieval with
/// <see cref="CompilerOptions.ContextWeight"/>, below the query's own weight, so a follow-up that names its subject
/// only in the conversation still finds it without the conversation outweighing what was just asked.
/// </param>
/// <param name="RetrievalContextMessages">
/// The messages <paramref name="RetrievalContext"/> joins, one by one: with <see cref="CompilerOptions.ContextVectors"/>
/// "messages", the conversation's vector is the mean of theirs. Null treats the context as one message.
/// </param>
/// <param name="Tokenizer">Count the budget in this encoding or model's tokens (for example <c>gpt-4o</c>); null for the compiler's own.</param>
public sealed record CompileRequest(
    string Query, int Budget, RetrievalFilter? Filter = null, CompilerOptions? Options = null, bool Explain = false, string? RetrievalQuery = null,
    string? RetrievalContext = null, string? Tokenizer = null, IReadOnlyList<string>? RetrievalContextMessages = null);
