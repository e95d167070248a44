using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Retrieve;
using ContextCompiler.Storage.Sessions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ContextCompiler.Server.Endpoints;

/// <summary>Stateless compilation: a query and a budget in, a working set out; nothing is stored.</summary>
public static class CompileApi
{
    /// <summary>Maps POST /v1/compile.</summary>
    public static IEndpointRouteBuilder MapCompileApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/compile").WithTags("Compile").RequireAuthorization()
            .MapPost("/", Compile).WithName("Compile").WithSummary("Compile a query into a cited working set within a token budget.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesJsonBodyProblems();
        return app;
    }

    // Validation failures throw ArgumentException; ProblemMapping turns them into 400 problem details.
    private static async Task<Ok<WorkingSet>> Compile(CompileBody body, WorkingSetCompiler compiler, SessionStoreOptions limits, HttpContext context)
    {
        int budget = body.Budget ?? throw new ArgumentException("budget is required.");
        if (budget < 1 || budget > limits.MaxBudget)
        {
            throw new ArgumentException($"budget must be between 1 and {limits.MaxBudget}, not {budget}.");
        }

        var options = CompilerOptionsParser.Apply(new CompilerOptions(), OptionAssignments.From(body.Options));
        var request = new CompileRequest(body.Query ?? string.Empty, budget, new RetrievalFilter(body.Corpus, body.PathPrefix), options, body.Explain ?? false, Tokenizer: body.Tokenizer);
        return TypedResults.Ok(await compiler.CompileAsync(request, context.RequestAborted));
    }
}
