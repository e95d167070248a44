using System.Net;
using System.Net.Http.Json;

namespace ContextCompiler.Server.Tests;

public sealed class SessionsApiTests(SharedServer server) : IClassFixture<SharedServer>
{
    private readonly HttpClient _client = server.Factory.Client();

    [Fact]
    public async Task Create_returns_201_with_location_and_the_session()
    {
        var response = await _client.PostAsJsonAsync("/v1/sessions", new { userId = "u-create", metadata = new { topic = "wal" } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var session = await response.Json();
        string id = session.GetProperty("id").GetString()!;
        Assert.Equal($"/v1/sessions/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("open", session.GetProperty("status").GetString());
        Assert.Equal(0, session.GetProperty("messageCount").GetInt32());

        var fetched = await (await _client.GetAsync($"/v1/sessions/{id}")).Json();
        Assert.Equal("wal", fetched.GetProperty("metadata").GetProperty("topic").GetString());
        Assert.False(fetched.TryGetProperty("tenant", out _));
    }

    [Fact]
    public async Task List_filters_by_user_and_status_orders_and_pages()
    {
        string user = "u-list-" + Guid.NewGuid().ToString("N");
        var a = await _client.CreateSession(new { userId = user });
        var b = await _client.CreateSession(new { userId = user });
        var c = await _client.CreateSession(new { userId = user });
        await _client.Say(b, "assistant", "hello");
        await _client.Say(b, "assistant", "again");
        await _client.PostAsync($"/v1/sessions/{c}/close", null);

        var all = await (await _client.GetAsync($"/v1/sessions?userId={user}&orderBy=createdAt&direction=asc")).Json();
        Assert.Equal(3, all.GetProperty("total").GetInt32());
        Assert.Equal(new[] { a, b, c }, all.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToArray());

        var open = await (await _client.GetAsync($"/v1/sessions?userId={user}&status=open")).Json();
        Assert.Equal(2, open.GetProperty("total").GetInt32());

        var busiest = await (await _client.GetAsync($"/v1/sessions?userId={user}&orderBy=messageCount&direction=desc&limit=1")).Json();
        Assert.Equal(3, busiest.GetProperty("total").GetInt32());
        Assert.Equal(b, busiest.GetProperty("items")[0].GetProperty("id").GetString());

        var second = await (await _client.GetAsync($"/v1/sessions?userId={user}&orderBy=createdAt&direction=asc&limit=1&offset=1")).Json();
        Assert.Equal(b, second.GetProperty("items")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task List_filters_by_creation_time_and_orders_by_update_time()
    {
        string user = "u-range-" + Guid.NewGuid().ToString("N");
        var older = await _client.CreateSession(new { userId = user });
        var middle = DateTimeOffset.UtcNow;
        await Task.Delay(20);
        var newer = await _client.CreateSession(new { userId = user });
        await _client.Say(older, "assistant", "touches the older session last");

        string since = Uri.EscapeDataString(middle.ToString("O"));
        var created = await (await _client.GetAsync($"/v1/sessions?userId={user}&createdAfter={since}")).Json();
        Assert.Equal([newer], created.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("id").GetString()!));
        var before = await (await _client.GetAsync($"/v1/sessions?userId={user}&createdBefore={since}")).Json();
        Assert.Equal([older], before.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("id").GetString()!));

        var updated = await (await _client.GetAsync($"/v1/sessions?userId={user}&orderBy=updatedAt&direction=desc")).Json();
        Assert.Equal(older, updated.GetProperty("items")[0].GetProperty("id").GetString());
    }

    [Theory]
    [InlineData("orderBy=name")]
    [InlineData("direction=sideways")]
    [InlineData("status=pending")]
    [InlineData("limit=0")]
    [InlineData("offset=-1")]
    [InlineData("limit=abc")]
    public async Task List_with_a_bad_parameter_is_a_400_problem(string query) =>
        await (await _client.GetAsync("/v1/sessions?" + query)).AssertProblem(400);

    [Fact]
    public async Task Close_then_turn_or_message_is_a_409_problem()
    {
        var id = await _client.CreateSession();
        var closed = await (await _client.PostAsync($"/v1/sessions/{id}/close", null)).Json();
        Assert.Equal("closed", closed.GetProperty("status").GetString());
        await (await _client.PostAsJsonAsync($"/v1/sessions/{id}/turns", new { message = "hello?" })).AssertProblem(409);
        await (await _client.PostAsJsonAsync($"/v1/sessions/{id}/messages", new { role = "assistant", content = "hi" })).AssertProblem(409);
    }

    [Fact]
    public async Task Delete_returns_204_then_the_session_is_gone()
    {
        var id = await _client.CreateSession();
        await _client.Turn(id, "What is a savepoint?");
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/v1/sessions/{id}")).StatusCode);
        await (await _client.GetAsync($"/v1/sessions/{id}")).AssertProblem(404);
        await (await _client.DeleteAsync($"/v1/sessions/{id}")).AssertProblem(404);
    }

    [Fact]
    public async Task Every_route_reports_an_unknown_session_as_a_404_problem()
    {
        const string id = "no-such-session";
        await (await _client.GetAsync($"/v1/sessions/{id}")).AssertProblem(404);
        await (await _client.PostAsync($"/v1/sessions/{id}/close", null)).AssertProblem(404);
        await (await _client.DeleteAsync($"/v1/sessions/{id}")).AssertProblem(404);
        await (await _client.PostAsJsonAsync($"/v1/sessions/{id}/turns", new { message = "hi" })).AssertProblem(404);
        await (await _client.PostAsJsonAsync($"/v1/sessions/{id}/messages", new { role = "assistant", content = "hi" })).AssertProblem(404);
        await (await _client.GetAsync($"/v1/sessions/{id}/history")).AssertProblem(404);
        await (await _client.GetAsync($"/v1/sessions/{id}/replay")).AssertProblem(404);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n\t ")]
    public async Task An_empty_turn_message_is_a_400_problem_and_stores_nothing(string message)
    {
        var id = await _client.CreateSession();
        await (await _client.PostAsJsonAsync($"/v1/sessions/{id}/turns", new { message })).AssertProblem(400);
        Assert.Equal(0, (await (await _client.GetAsync($"/v1/sessions/{id}")).Json()).GetProperty("messageCount").GetInt32());
    }

    [Theory]
    [InlineData("wizard")]
    [InlineData("user")]
    [InlineData("")]
    public async Task A_message_with_an_unknown_or_user_role_is_a_400_problem(string role)
    {
        var id = await _client.CreateSession();
        await (await _client.PostAsJsonAsync($"/v1/sessions/{id}/messages", new { role, content = "hi" })).AssertProblem(400);
    }

    [Fact]
    public async Task An_empty_message_content_is_a_400_problem()
    {
        var id = await _client.CreateSession();
        await (await _client.PostAsJsonAsync($"/v1/sessions/{id}/messages", new { role = "assistant", content = " " })).AssertProblem(400);
    }

    [Theory]
    [InlineData(0, null, null)]
    [InlineData(-1, null, null)]
    [InlineData(null, 0, null)]
    [InlineData(null, null, 0)]
    [InlineData(ServerFactory.MaxBudget + 1, null, null)]
    [InlineData(null, null, ServerFactory.MaxBudget + 1)]
    [InlineData(300, 300, 500)]
    public async Task A_turn_budget_out_of_range_is_a_400_problem(int? contextBudget, int? historyBudget, int? totalBudget)
    {
        var id = await _client.CreateSession();
        await (await _client.PostAsJsonAsync($"/v1/sessions/{id}/turns", new { message = "wal", contextBudget, historyBudget, totalBudget })).AssertProblem(400);
    }

    [Fact]
    public async Task A_history_max_tokens_below_one_is_a_400_problem()
    {
        var id = await _client.CreateSession();
        await (await _client.GetAsync($"/v1/sessions/{id}/history?maxTokens=0")).AssertProblem(400);
    }

    [Fact]
    public async Task Another_tenants_session_is_not_found_and_not_listed()
    {
        var id = await _client.CreateSession(new { userId = "u-tenant" });
        var beta = server.Factory.Client(ServerFactory.BetaKey);
        await (await beta.GetAsync($"/v1/sessions/{id}")).AssertProblem(404);
        await (await beta.PostAsJsonAsync($"/v1/sessions/{id}/turns", new { message = "hi" })).AssertProblem(404);
        await (await beta.GetAsync($"/v1/sessions/{id}/replay")).AssertProblem(404);
        await (await beta.DeleteAsync($"/v1/sessions/{id}")).AssertProblem(404);
        var listed = await (await beta.GetAsync("/v1/sessions?userId=u-tenant")).Json();
        Assert.Equal(0, listed.GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/v1/sessions/{id}")).StatusCode);
    }

    [Fact]
    public async Task Opening_more_sessions_than_allowed_per_user_is_a_409_quota_problem()
    {
        string user = "u-capped-" + Guid.NewGuid().ToString("N");
        var ids = new List<string>();
        for (int i = 0; i < ServerFactory.MaxOpenPerUser; i++)
        {
            ids.Add(await _client.CreateSession(new { userId = user }));
        }

        var refused = await (await _client.PostAsJsonAsync("/v1/sessions", new { userId = user })).AssertProblem(409);
        Assert.Equal("Quota exceeded", refused.GetProperty("title").GetString());
        await _client.PostAsync($"/v1/sessions/{ids[0]}/close", null);
        await _client.CreateSession(new { userId = user });
    }
}
