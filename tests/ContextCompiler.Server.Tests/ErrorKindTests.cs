using System.Net;
using System.Net.Http.Json;
using ContextCompiler.Cli.Commands;
using ContextCompiler.Core.Errors;
using ContextCompiler.Server.Mcp;
using ContextCompiler.Engine.Corpora;
using ContextCompiler.Engine.Sessions;
using ModelContextProtocol.Protocol;

namespace ContextCompiler.Server.Tests;

/// <summary>
/// Pins the one error model: each <see cref="ErrorKind"/> provoked through the real server answers its status and title,
/// the MCP filter turns every kind into an <c>isError</c> result with the same title, and the CLI exits with the kind's code.
/// </summary>
public sealed class ErrorKindTests : IDisposable
{
    private const int MaxDocumentBytes = 2000;

    // Small corpus limits so that capacity and size are reachable in a few requests.
    private readonly ServerFactory _factory = new(ServerFactory.NewFolder(), new Dictionary<string, string>
    {
        ["ContextCompiler:Corpora:MaxDocumentBytes"] = MaxDocumentBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["ContextCompiler:Corpora:MaxCorporaPerTenant"] = "1",
    });

    public static TheoryData<ErrorKind, int, string> Kinds => new()
    {
        { ErrorKind.InvalidRequest, 400, "Invalid request" },
        { ErrorKind.NotFound, 404, "Not found" },
        { ErrorKind.Conflict, 409, "Conflict" },
        { ErrorKind.CapacityExceeded, 409, "Quota exceeded" },
        { ErrorKind.TooLarge, 413, "Too large" },
        { ErrorKind.IdempotencyKeyReused, 422, "Idempotency-Key reused" },
    };

    [Fact]
    public void Every_kind_is_pinned_here()
    {
        Assert.Equal(Enum.GetValues<ErrorKind>().Order(), Kinds.Select(row => (ErrorKind)row[0]).Order());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Each_kind_is_its_status_and_title_over_http(ErrorKind kind, int status, string title)
    {
        using var response = await Provoke(kind);

        var problem = await response.AssertProblem(status);
        Assert.Equal(title, problem.GetProperty("title").GetString());
        Assert.Equal((status, title), ErrorKinds.Describe(kind));
        // Only the rate limiter asks clients to wait; no service error does.
        Assert.False(response.Headers.Contains("Retry-After"));
    }

    [Fact]
    public async Task A_users_open_session_limit_and_a_corpus_quota_are_the_same_problem()
    {
        var alpha = _factory.Client();
        using var sessions = await Provoke(ErrorKind.CapacityExceeded);
        var tooManySessions = await sessions.AssertProblem(409);

        await alpha.PostAsJsonAsync("/v1/corpora", new { name = "only" });
        using var corpora = await alpha.PostAsJsonAsync("/v1/corpora", new { name = "second" });
        var tooManyCorpora = await corpora.AssertProblem(409);

        Assert.Equal(tooManySessions.GetProperty("title").GetString(), tooManyCorpora.GetProperty("title").GetString());
        Assert.Contains("open sessions", tooManySessions.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("corpora", tooManyCorpora.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    public static TheoryData<Exception, string> ToolFailures => new()
    {
        { new SessionNotFoundException("s1"), "Not found: Session 's1' was not found." },
        { new DocumentNotFoundException("docs", "a.md"), "Not found: Document 'a.md' was not found in corpus 'docs'." },
        { new SessionCapacityException("User 'u' already has 3 open sessions; close one first."), "Quota exceeded: User 'u' already has 3 open sessions; close one first." },
        { new QuotaExceededException("The tenant owns 1 corpora, the most allowed (1); delete one first."), "Quota exceeded: The tenant owns 1 corpora, the most allowed (1); delete one first." },
        { new DocumentTooLargeException("The document has 3000 bytes; at most 2000 are allowed."), "Too large: The document has 3000 bytes; at most 2000 are allowed." },
        { new CorpusConflictException("A corpus named 'x' exists already."), "Conflict: A corpus named 'x' exists already." },
        { new ArgumentException("budget is required."), "Invalid request: budget is required." },
    };

    [Theory]
    [MemberData(nameof(ToolFailures))]
    public async Task Each_service_error_is_an_mcp_tool_error_titled_by_its_kind(Exception failure, string text)
    {
        var filtered = ToolErrors.Filter((_, _) => throw failure);

        var result = await filtered(null!, CancellationToken.None);

        Assert.True(result.IsError);
        Assert.Equal(text, Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
    }

    [Fact]
    public async Task A_failure_of_no_kind_is_left_to_the_mcp_sdk()
    {
        var filtered = ToolErrors.Filter((_, _) => throw new InvalidOperationException("a bug's details"));

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await filtered(null!, CancellationToken.None));
    }

    [Fact]
    public void Each_kind_has_its_own_cli_exit_code_and_the_typed_clients_exceptions_share_them()
    {
        Assert.Equal(2, ExitCodes.For(new ArgumentException("bad")));
        Assert.Equal(3, ExitCodes.For(new SessionNotFoundException("s1")));
        Assert.Equal(4, ExitCodes.For(new CorpusConflictException("taken")));
        Assert.Equal(5, ExitCodes.For(new SessionCapacityException("full")));
        Assert.Equal(5, ExitCodes.For(new QuotaExceededException("full")));
        Assert.Equal(6, ExitCodes.For(new DocumentTooLargeException("big")));
        Assert.Equal(1, ExitCodes.For(new FileNotFoundException("no database")));
        Assert.Null(ExitCodes.For(new NullReferenceException()));

        Assert.Equal(3, ExitCodes.For(new Client.NotFoundException("404", HttpStatusCode.NotFound, null, null)));
        Assert.Equal(5, ExitCodes.For(new Client.QuotaExceededException("409", HttpStatusCode.Conflict, null, null)));
        Assert.Equal(4, ExitCodes.For(new Client.ConflictException("409", HttpStatusCode.Conflict, null, null)));
        Assert.Equal(1, ExitCodes.For(new Client.RateLimitedException("429", HttpStatusCode.TooManyRequests, null, null, null)));
    }

    // One request that fails with each kind, on this class's server.
    private async Task<HttpResponseMessage> Provoke(ErrorKind kind)
    {
        var alpha = _factory.Client();
        switch (kind)
        {
            case ErrorKind.InvalidRequest:
                return await alpha.PostAsJsonAsync("/v1/compile", new { query = "wal", budget = 0 });
            case ErrorKind.NotFound:
                return await alpha.GetAsync("/v1/sessions/no-such-session");
            case ErrorKind.Conflict:
                string closed = await alpha.CreateSession();
                await alpha.PostAsync($"/v1/sessions/{closed}/close", null);
                return await alpha.PostAsJsonAsync($"/v1/sessions/{closed}/messages", new { role = "assistant", content = "late" });
            case ErrorKind.CapacityExceeded:
                string user = "u-" + Guid.NewGuid().ToString("N");
                for (int i = 0; i < ServerFactory.MaxOpenPerUser; i++)
                {
                    await alpha.CreateSession(new { userId = user });
                }

                return await alpha.PostAsJsonAsync("/v1/sessions", new { userId = user });
            case ErrorKind.TooLarge:
                await alpha.PostAsJsonAsync("/v1/corpora", new { name = "only" });
                return await CorporaApiTests.Put(alpha, "only", "large.md", "# Large\n\n" + new string('x', MaxDocumentBytes + 100), "text/markdown");
            case ErrorKind.IdempotencyKeyReused:
                string key = Guid.NewGuid().ToString();
                (await alpha.SendAsync(WithKey(new { userId = "first" }, key))).Dispose();
                return await alpha.SendAsync(WithKey(new { userId = "second" }, key));
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "No request provokes this kind yet; add one.");
        }
    }

    private static HttpRequestMessage WithKey(object body, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/sessions") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        return request;
    }

    public void Dispose()
    {
        _factory.Dispose();
        _factory.DeleteFolder();
    }
}
