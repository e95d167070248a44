using ContextCompiler.Core.Compile;
using ContextCompiler.Engine.Corpora;

namespace ContextCompiler.Server.Endpoints;

/// <summary>
/// The checks that turn a compile body into a <see cref="CompileRequest"/>: a budget given and in range, and options
/// that parse. POST /v1/compile and the MCP <c>compile_context</c> tool both call it, so they refuse the same input
/// with the same message.
/// </summary>
public static class CompileValidation
{
    /// <summary>
    /// The request for <paramref name="body"/>, with budgets capped at <paramref name="maxBudget"/>, retrieving only from
    /// the corpora <paramref name="tenant"/> may read (its own and the shared ones); a named corpus is looked up among those.
    /// </summary>
    /// <exception cref="ArgumentException">No budget, a budget outside 1..<paramref name="maxBudget"/>, or an invalid option.</exception>
    /// <exception cref="CorpusNotFoundException">A named corpus the tenant cannot read.</exception>
    public static CompileRequest Request(CompileBody body, int maxBudget, ICorpusStore corpora, string tenant)
    {
        int budget = body.Budget ?? throw new ArgumentException("budget is required.");
        if (budget < 1 || budget > maxBudget)
        {
            throw new ArgumentException($"budget must be between 1 and {maxBudget}, not {budget}.");
        }

        var options = CompilerOptionsParser.Apply(new CompilerOptions(), OptionAssignments.From(body.Options));
        var filter = corpora.ReadableFilter(tenant) with { Corpus = body.Corpus is null ? null : corpora.ReadableKey(tenant, body.Corpus), PathPrefix = body.PathPrefix };
        return new CompileRequest(body.Query ?? string.Empty, budget, filter, options, body.Explain ?? false, Tokenizer: body.Tokenizer);
    }
}
