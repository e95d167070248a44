using System.ComponentModel;
using ContextCompiler.Client;
using Microsoft.SemanticKernel;

namespace ContextCompiler.SemanticKernel;

/// <summary>
/// A Semantic Kernel plugin whose one function, <c>compile_context</c>, compiles a query into a working set of cited spans
/// and returns its rendered text. Import it with <c>kernel.ImportPluginFromObject(new ContextCompilerPlugin(client), "contextcompiler")</c>.
/// </summary>
public sealed class ContextCompilerPlugin(IContextCompilerClient client)
{
    private readonly IContextCompilerClient _client = client ?? throw new ArgumentNullException(nameof(client));

    /// <summary>The function's name as the model sees it (after the plugin's name).</summary>
    public const string FunctionName = "compile_context";

    /// <summary>Compiles <paramref name="query"/> into cited spans that fit <paramref name="budget"/> tokens and returns their text.</summary>
    /// <exception cref="ArgumentException">The query is empty or the budget is not positive; the service is not called.</exception>
    /// <exception cref="InvalidRequestException">The service rejected the request (an unknown tokenizer, a budget above its limit, …).</exception>
    [KernelFunction(FunctionName)]
    [Description("Retrieves passages from the document corpus that answer a query, as numbered blocks '[n] corpus/path:Lstart-Lend' "
        + "followed by the cited lines, within a token budget. Cite the blocks you use by their [n].")]
    public async Task<string> CompileContextAsync(
        [Description("What to look for, in natural language or keywords.")] string query,
        [Description("The most tokens the returned context may take, for example 1500.")] int budget,
        [Description("Only passages of this corpus; omit for every corpus.")] string? corpus = null,
        [Description("Only passages whose path starts with this, for example 'docs/'; omit for every path.")] string? pathPrefix = null,
        [Description("Count the budget in this encoding's or model's tokens (o200k_base, cl100k_base, gpt-4o, …); omit for the service's.")] string? tokenizer = null,
        CancellationToken cancellationToken = default)
    {
        // Checked here so that a model's bad call gets a plain message back instead of a round trip and an HTTP error.
        if (string.IsNullOrWhiteSpace(query))
        {
            throw new ArgumentException("compile_context needs a non-empty query.", nameof(query));
        }

        if (budget <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(budget), budget, "compile_context needs a budget of at least 1 token.");
        }

        var workingSet = await _client.CompileAsync(
            new CompileRequest(query, budget, Blank(corpus), Blank(pathPrefix), Tokenizer: Blank(tokenizer)), cancellationToken).ConfigureAwait(false);

        // An empty text would read to the model as "nothing to say"; the reason tells it why (no match, budget too small).
        return workingSet.Citations.Count == 0
            ? $"No context found for \"{query}\": {workingSet.Reason ?? "no passage matched"}."
            : workingSet.Text;
    }

    // Models often send "" for an optional argument they mean to leave out.
    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
