using ContextCompiler.Core.Evaluate;
using ContextCompiler.Engine.Sessions;
using ContextCompiler.Engine.Sessions.Compacting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ContextCompiler.Server.Endpoints;

/// <summary>
/// Sessions, turns, messages, history and replay. Handlers return only their success result: every failure is an
/// exception from <see cref="SessionStore"/> or <see cref="TurnService"/> that <see cref="ProblemMapping"/> maps to a problem response in one place.
/// </summary>
public static class SessionsApi
{
    /// <summary>Maps every /v1/sessions route.</summary>
    public static IEndpointRouteBuilder MapSessionsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/sessions").WithTags("Sessions")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status429TooManyRequests);

        // 409 "Quota exceeded" when the user already has the most open sessions allowed.
        group.MapPost("/", Create).WithName("CreateSession").WithSummary("Start a session.")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesJsonBodyProblems().WithIdempotencyKey();
        group.MapGet("/", List).WithName("ListSessions").WithSummary("List sessions with filters, order and paging.");
        group.MapGet("/{id}", Get).WithName("GetSession").WithSummary("One session.").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{id}/close", Close).WithName("CloseSession").WithSummary("Close a session; it keeps its messages.").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{id}", Delete).WithName("DeleteSession").WithSummary("Delete a session and everything in it.").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{id}/turns", Turn).WithName("TakeTurn").WithSummary("Add a user message: compile its working set and fit the history.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesJsonBodyProblems().WithIdempotencyKey();
        group.MapPost("/{id}/messages", AddMessage).WithName("AddMessage").WithSummary("Add an assistant, system or tool message.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesJsonBodyProblems().WithIdempotencyKey();
        group.MapGet("/{id}/history", History).WithName("GetHistory").WithSummary("The newest messages that fit maxTokens.").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{id}/replay", Replay).WithName("ReplaySession").WithSummary("Every turn with its stored working set, byte for byte.").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{id}/usage", Usage).WithName("GetSessionUsage")
            .WithSummary("Context usage: stored messages and tokens, the history window, the summary's tokens and the share of the history budget used.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{id}/compact", Compact).WithName("CompactSession")
            .WithSummary("Fold the messages that do not fit the history beside a summary into the running summary; stores nothing when there are none.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesJsonBodyProblems();
        group.MapGet("/{id}/compactions", Compactions).WithName("ListCompactions").WithSummary("The session's compactions, oldest first.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{id}/replay/recompile", Recompile).WithName("RecompileReplay")
            .WithSummary("Compile every stored user turn again with another budget or options and compare it with the stored working set; stores nothing.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesJsonBodyProblems();
        return app;
    }

    private static string Tenant(HttpContext context) => context.User.Tenant();

    private static Created<Session> Create(CreateSessionBody? body, SessionStore store, HttpContext context)
    {
        var claim = context.ClaimFor<Session>(StatusCodes.Status201Created, s => s, s => SessionLocation(s.Id));
        var session = store.Create(Tenant(context), new NewSession(body?.UserId, body?.Metadata, body?.DefaultBudgets, body?.CompactionSettings()), claim);
        return TypedResults.Created(SessionLocation(session.Id), session);
    }

    private static Ok<SessionPage> List(
        SessionStore store, HttpContext context, string? userId, string? status, string? orderBy, string? direction, int? limit, int? offset,
        DateTimeOffset? createdAfter, DateTimeOffset? createdBefore, DateTimeOffset? updatedAfter, DateTimeOffset? updatedBefore) =>
        TypedResults.Ok(store.List(Tenant(context),
            new SessionQuery(userId, status, createdAfter, createdBefore, updatedAfter, updatedBefore, orderBy, direction, limit, offset)));

    private static Ok<Session> Get(string id, SessionStore store, HttpContext context) => TypedResults.Ok(store.Get(Tenant(context), id));

    private static Ok<Session> Close(string id, SessionStore store, HttpContext context) => TypedResults.Ok(store.Close(Tenant(context), id));

    private static NoContent Delete(string id, SessionStore store, HttpContext context)
    {
        store.Delete(Tenant(context), id);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<TurnResponse>> Turn(string id, TurnBody body, TurnService turns, HttpContext context)
    {
        var budgets = new SessionBudgets(body.ContextBudget, body.HistoryBudget, body.TotalBudget);
        var request = new TurnRequest(body.Message ?? string.Empty, budgets, body.Explain ?? false, body.SkipOversized ?? false, body.Tokenizer, body.CompactionSettings());
        var claim = context.ClaimFor<TurnResult>(StatusCodes.Status200OK, TurnResponse.From);
        return TypedResults.Ok(TurnResponse.From(await turns.TakeTurnAsync(Tenant(context), id, request, claim, context.RequestAborted)));
    }

    private static async Task<Created<Message>> AddMessage(string id, MessageBody body, SessionStore store, HttpContext context)
    {
        var claim = context.ClaimFor<Message>(StatusCodes.Status201Created, m => m, m => MessageLocation(id, m.Id));
        var message = await store.AddMessageAsync(Tenant(context), id, body.Role, body.Content, body.Metadata, claim, context.RequestAborted);
        return TypedResults.Created(MessageLocation(id, message.Id), message);
    }

    private static string SessionLocation(string id) => $"/v1/sessions/{id}";

    private static string MessageLocation(string session, string message) => $"/v1/sessions/{session}/messages/{message}";

    private static Ok<HistoryWindow> History(string id, int? maxTokens, bool? skipOversized, SessionStore store, HttpContext context) =>
        TypedResults.Ok(store.History(Tenant(context), id, maxTokens, skipOversized ?? false));

    private static Ok<SessionReplay> Replay(string id, SessionStore store, HttpContext context) => TypedResults.Ok(store.Replay(Tenant(context), id));

    private static Ok<SessionUsage> Usage(string id, int? historyBudget, SessionStore store, HttpContext context) =>
        TypedResults.Ok(store.Usage(Tenant(context), id, historyBudget));

    // Idempotent by itself: a retry finds nothing left to fold, stores nothing and answers with the compaction in force.
    private static async Task<Ok<CompactionOutcome>> Compact(string id, CompactBody? body, SessionCompactor compactor, HttpContext context) =>
        TypedResults.Ok(await compactor.CompactAsync(Tenant(context), id, body?.HistoryBudget, context.RequestAborted));

    private static Ok<IReadOnlyList<Compaction>> Compactions(string id, SessionStore store, HttpContext context) =>
        TypedResults.Ok(store.Compactions(Tenant(context), id));

    private static async Task<Ok<RecompileReport>> Recompile(string id, RecompileBody? body, SessionRecompiler recompiler, HttpContext context) =>
        TypedResults.Ok(await recompiler.RecompileAsync(Tenant(context), id, new RecompileRequest(body?.Budget, OptionAssignments.From(body?.Options)), context.RequestAborted));
}
