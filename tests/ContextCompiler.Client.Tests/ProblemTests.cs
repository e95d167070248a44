using System.Net;
using System.Text.Json;
using ContextCompiler.Server.Tests;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.Client.Tests;

/// <summary>The server's RFC 7807 problems arrive as the exception type of their status, with the problem's members.</summary>
public sealed class ProblemTests(SharedServer server) : IClassFixture<SharedServer>
{
    private readonly IContextCompilerClient _client = server.Client();

    [Fact]
    public async Task An_invalid_budget_is_an_InvalidRequestException_with_the_problem_members()
    {
        var e = await Assert.ThrowsAsync<InvalidRequestException>(() => _client.CompileAsync(new CompileRequest("wal", 0)));

        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Equal("Invalid request", e.Title);
        Assert.Contains("budget", e.Detail, StringComparison.Ordinal);
        Assert.Contains(e.Detail!, e.Message, StringComparison.Ordinal);
        Assert.Equal(400, e.Problem!.Status);
        Assert.Equal(JsonValueKind.String, e.Extensions["traceId"].ValueKind);
    }

    [Fact]
    public async Task An_unknown_api_key_is_an_UnauthorizedException()
    {
        var stranger = TestClients.Provider(server.Factory, apiKey: "no-such-key").GetRequiredService<IContextCompilerClient>();

        var e = await Assert.ThrowsAsync<UnauthorizedException>(() => stranger.ListSessionsAsync());

        Assert.Equal(HttpStatusCode.Unauthorized, e.StatusCode);
        Assert.False(string.IsNullOrEmpty(e.Detail));
    }

    [Fact]
    public async Task Another_tenants_session_is_a_NotFoundException()
    {
        var session = await _client.CreateSessionAsync();
        var beta = TestClients.Provider(server.Factory, apiKey: ServerFactory.BetaKey).GetRequiredService<IContextCompilerClient>();

        var e = await Assert.ThrowsAsync<NotFoundException>(() => beta.GetSessionAsync(session.Id));

        Assert.Equal("Not found", e.Title);
        Assert.Contains(session.Id, e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_to_a_closed_session_is_a_ConflictException()
    {
        var session = await _client.CreateSessionAsync();
        await _client.CloseSessionAsync(session.Id);

        var e = await Assert.ThrowsAsync<ConflictException>(() => _client.AddMessageAsync(session.Id, new AddMessageRequest(MessageRoles.Assistant, "late")));

        Assert.Equal(HttpStatusCode.Conflict, e.StatusCode);
        Assert.Contains("closed", e.Detail, StringComparison.Ordinal);
        Assert.Equal(0, (await _client.GetSessionAsync(session.Id)).MessageCount);
    }

    [Fact]
    public async Task A_user_over_the_open_session_limit_is_a_QuotaExceededException_not_a_rate_limit()
    {
        string user = "user-" + Guid.NewGuid().ToString("N");
        for (int i = 0; i < ServerFactory.MaxOpenPerUser; i++)
        {
            await _client.CreateSessionAsync(new CreateSessionRequest(user));
        }

        var e = await Assert.ThrowsAsync<QuotaExceededException>(() => _client.CreateSessionAsync(new CreateSessionRequest(user)));

        Assert.Equal(HttpStatusCode.Conflict, e.StatusCode);
        Assert.Equal("Quota exceeded", e.Title);
        Assert.Contains("open sessions", e.Detail, StringComparison.Ordinal);
        Assert.Equal(ServerFactory.MaxOpenPerUser, (await _client.ListSessionsAsync(new SessionQuery(UserId: user))).Total);
    }

    [Fact]
    public async Task A_callers_key_reused_for_another_request_is_an_IdempotencyKeyReusedException()
    {
        string key = Guid.NewGuid().ToString();
        string other = "user-" + Guid.NewGuid().ToString("N");
        await _client.CreateSessionAsync(new CreateSessionRequest("user-" + Guid.NewGuid().ToString("N")) { IdempotencyKey = key });

        var e = await Assert.ThrowsAsync<IdempotencyKeyReusedException>(
            () => _client.CreateSessionAsync(new CreateSessionRequest(other) { IdempotencyKey = key }));

        Assert.Equal((HttpStatusCode)422, e.StatusCode);
        Assert.Contains(key, e.Detail, StringComparison.Ordinal);
        Assert.Equal(0, (await _client.ListSessionsAsync(new SessionQuery(UserId: other))).Total);
    }

    [Fact]
    public async Task A_callers_key_repeated_with_the_same_request_returns_the_first_session()
    {
        string user = "user-" + Guid.NewGuid().ToString("N");
        string key = Guid.NewGuid().ToString();

        var first = await _client.CreateSessionAsync(new CreateSessionRequest(user) { IdempotencyKey = key });
        var again = await _client.CreateSessionAsync(new CreateSessionRequest(user) { IdempotencyKey = key });

        Assert.Equal(first, again);
        Assert.Equal(1, (await _client.ListSessionsAsync(new SessionQuery(UserId: user))).Total);
    }

    [Fact]
    public async Task An_error_body_that_is_no_problem_still_gives_a_clear_exception()
    {
        // A reverse proxy in front of the service answers with HTML; nothing in the server sends such a body, so this
        // one response is made up in the place a proxy would sit.
        var proxy = new AnswerHandler(() => new HttpResponseMessage(HttpStatusCode.Forbidden)
        {
            Content = new StringContent("<html><body>Forbidden by policy</body></html>", System.Text.Encoding.UTF8, "text/html"),
        });
        var client = TestClients.Provider(server.Factory, handlers: b => b.AddHttpMessageHandler(() => proxy)).GetRequiredService<IContextCompilerClient>();

        var e = await Assert.ThrowsAsync<ContextCompilerException>(() => client.ListSessionsAsync());

        Assert.Equal(typeof(ContextCompilerException), e.GetType());
        Assert.Equal(HttpStatusCode.Forbidden, e.StatusCode);
        Assert.Null(e.Problem);
        Assert.Empty(e.Extensions);
        Assert.Contains("403", e.Message, StringComparison.Ordinal);
        Assert.Contains("Forbidden by policy", e.Message, StringComparison.Ordinal);
        Assert.Equal("<html><body>Forbidden by policy</body></html>", e.ResponseBody);
    }

    private sealed class AnswerHandler(Func<HttpResponseMessage> answer) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = answer();
            response.RequestMessage = request;
            return Task.FromResult(response);
        }
    }
}
