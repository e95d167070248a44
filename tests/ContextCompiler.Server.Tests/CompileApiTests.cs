using System.Net;
using System.Net.Http.Json;

namespace ContextCompiler.Server.Tests;

public sealed class CompileApiTests(SharedServer server) : IClassFixture<SharedServer>
{
    private readonly HttpClient _client = server.Factory.Client();

    [Fact]
    public async Task Health_answers_without_an_api_key()
    {
        var response = await server.Factory.Client(apiKey: null).GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", (await response.Json()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task OpenApi_document_lists_the_routes()
    {
        var text = await server.Factory.Client(apiKey: null).GetStringAsync("/openapi/v1.json");
        Assert.Contains("/v1/sessions/{id}/turns", text);
        Assert.Contains("/v1/compile", text);
        Assert.Contains("A WorkingSet exactly as it was stored.", text);
    }

    [Fact]
    public async Task Compile_returns_a_cited_working_set_within_budget_and_stores_nothing()
    {
        var before = (await (await _client.GetAsync("/v1/sessions")).Json()).GetProperty("total").GetInt32();
        var response = await _client.PostAsJsonAsync("/v1/compile", new { query = "How do I enable write-ahead logging?", budget = 400 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var set = await response.Json();
        Assert.InRange(set.GetProperty("tokenCount").GetInt32(), 1, 400);
        Assert.Contains(set.GetProperty("citations").EnumerateArray(), c => c.GetProperty("path").GetString() == "wal.md");
        var after = (await (await _client.GetAsync("/v1/sessions")).Json()).GetProperty("total").GetInt32();
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task Compile_applies_options_and_filters()
    {
        var response = await _client.PostAsJsonAsync("/v1/compile", new
        {
            query = "conflict target do update",
            budget = 300,
            pathPrefix = "lang_upsert",
            options = new Dictionary<string, object> { ["fusion"] = "rrf", ["candidates"] = 10 },
            explain = true,
        });
        var set = await response.Json();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("rrf", set.GetProperty("manifest").GetProperty("config").GetProperty("fusion").GetString());
        Assert.All(set.GetProperty("citations").EnumerateArray(), c => Assert.Equal("lang_upsert.md", c.GetProperty("path").GetString()));
        Assert.True(set.TryGetProperty("explain", out _));
    }

    [Fact]
    public async Task Compile_with_an_unknown_option_is_a_400_problem() =>
        await (await _client.PostAsJsonAsync("/v1/compile", new { query = "wal", budget = 100, options = new { nope = 1 } })).AssertProblem(400);

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(ServerFactory.MaxBudget + 1)]
    public async Task Compile_with_a_budget_out_of_range_is_a_400_problem(int budget) =>
        await (await _client.PostAsJsonAsync("/v1/compile", new { query = "wal", budget })).AssertProblem(400);

    [Fact]
    public async Task Compile_with_an_empty_query_is_a_400_problem() =>
        await (await _client.PostAsJsonAsync("/v1/compile", new { query = "  ", budget = 100 })).AssertProblem(400);

    [Fact]
    public async Task Malformed_json_is_a_400_problem()
    {
        var content = new StringContent("{\"query\": \"wal\", \"budget\": ", System.Text.Encoding.UTF8, "application/json");
        await (await _client.PostAsync("/v1/compile", content)).AssertProblem(400);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_a_413_problem()
    {
        var huge = new string('x', (int)ServerFactory.MaxBodyBytes + 10);
        await (await _client.PostAsJsonAsync("/v1/compile", new { query = huge, budget = 100 })).AssertProblem(413);
    }

    [Fact]
    public async Task A_missing_api_key_is_a_401_problem() =>
        await (await server.Factory.Client(apiKey: null).PostAsJsonAsync("/v1/compile", new { query = "wal", budget = 100 })).AssertProblem(401);

    [Fact]
    public async Task A_wrong_api_key_is_a_401_problem() =>
        await (await server.Factory.Client("not-a-key").GetAsync("/v1/sessions")).AssertProblem(401);

    [Fact]
    public async Task An_unknown_route_is_a_404_problem() =>
        await (await _client.GetAsync("/v1/nothing-here")).AssertProblem(404);

    [Theory]
    [InlineData("gpt-4", "cl100k_base")]
    [InlineData("gpt-4o", "o200k_base")]
    [InlineData("cl100k_base", "cl100k_base")]
    public async Task A_budget_can_be_counted_in_a_models_tokens(string tokenizer, string encoding)
    {
        var response = await _client.PostAsJsonAsync("/v1/compile", new { query = "How do I enable write-ahead logging?", budget = 300, tokenizer });
        var set = await response.Json();
        Assert.Equal(encoding, set.GetProperty("manifest").GetProperty("tokenizer").GetString());
        int tokens = set.GetProperty("tokenCount").GetInt32();
        Assert.InRange(tokens, 1, 300);
        Assert.Equal(tokens, ContextCompiler.Engine.Assets.OfflineAssets.Default.Tokenizer(encoding).CountTokens(set.GetProperty("text").GetString()));
    }

    [Fact]
    public async Task An_unknown_tokenizer_is_a_400_problem()
    {
        var response = await _client.PostAsJsonAsync("/v1/compile", new { query = "wal", budget = 300, tokenizer = "no-such-model-9" });
        var problem = await response.AssertProblem(400);
        Assert.Contains("no-such-model-9", problem.GetProperty("detail").GetString());
    }
}
