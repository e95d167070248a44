using ContextCompiler.Core.Compile;
using ContextCompiler.Engine.Corpora;
using ContextCompiler.Engine.Sessions;
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
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesJsonBodyProblems();
        return app;
    }

    // Validation failures throw ArgumentException; ProblemMapping turns them into 400 problem details.
    private static async Task<Ok<WorkingSet>> Compile(CompileBody body, WorkingSetCompiler compiler, SessionStoreOptions limits, ICorpusStore corpora, HttpContext context) =>
        TypedResults.Ok(await compiler.CompileAsync(CompileValidation.Request(body, limits.MaxBudget, corpora, context.User.Tenant()), context.RequestAborted));
}
