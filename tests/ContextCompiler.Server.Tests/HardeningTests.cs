using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace ContextCompiler.Server.Tests;

/// <summary>Bad text in requests, exact storage of client text, problem details from the framework, and API keys.</summary>
public sealed class HardeningTests(SharedServer server) : IClassFixture<SharedServer>
{
    private readonly HttpClient _client = server.Factory.Client();

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Theory]
    [InlineData("/v1/compile", """{"query":"wal","budget":100,"options":{"topK":"\ud800"}}""")]
    [InlineData("/v1/compile", """{"query":"wal","budget":100,"options":{"fusion":"\udfff\ud800"}}""")]
    [InlineData("recompile", """{"options":{"topK":"\ud800"}}""")]
    public async Task An_option_that_is_not_valid_unicode_is_a_400_problem(string path, string body)
    {
        if (path == "recompile")
        {
            var id = await _client.CreateSession();
            await _client.Turn(id, "How do I turn on WAL mode?");
            path = $"/v1/sessions/{id}/replay/recompile";
        }

        var problem = await (await _client.PostAsync(path, Json(body))).AssertProblem(400);
        Assert.Contains("Unicode", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("/v1/compile", """{"query":"wal","budget":100,"options":{"topK":"AB"}}""")]
    [InlineData("/v1/compile", """{"query":"wal","budget":100,"options":{"topK":["AB"]}}""")]
    [InlineData("/v1/compile", """{"query":"wal","budget":100,"options":{"AB":1}}""")]
    [InlineData("/v1/sessions", """{"metadata":"AB"}""")]
    [InlineData("/v1/sessions", """{"metadata":{"nested":["AB"]}}""")]
    [InlineData("/v1/sessions", """{"userId":"AB"}""")]
    public async Task Invalid_utf8_bytes_inside_a_json_string_are_a_400_problem_and_write_nothing(string path, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        int at = Array.IndexOf(bytes, (byte)'A');
        bytes[at] = 0xC3;
        bytes[at + 1] = 0x28; // C3 28 is not UTF-8
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new("application/json");
        int before = (await (await _client.GetAsync("/v1/sessions")).Json()).GetProperty("total").GetInt32();
        await (await _client.PostAsync(path, content)).AssertProblem(400);
        Assert.Equal(before, (await (await _client.GetAsync("/v1/sessions")).Json()).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task An_assistant_message_with_a_nul_after_511_characters_replays_in_full()
    {
        var id = await _client.CreateSession();
        await _client.Turn(id, "What is WAL?");
        string content = new string('a', 511) + "\0b";
        await _client.Say(id, "assistant", content);
        var replay = await (await _client.GetAsync($"/v1/sessions/{id}/replay")).Json();
        Assert.Equal(content, replay.GetProperty("turns")[0].GetProperty("assistantMessage").GetProperty("content").GetString());
    }

    [Fact]
    public async Task A_user_turn_and_a_user_id_with_a_nul_after_600_characters_come_back_in_full()
    {
        string userId = new string('u', 600) + "\0z";
        string message = new string('q', 700) + "\0 and then the rest of the question about WAL";
        var id = await _client.CreateSession(new { userId });
        await _client.Turn(id, message);

        var session = await (await _client.GetAsync($"/v1/sessions/{id}")).Json();
        Assert.Equal(userId, session.GetProperty("userId").GetString());
        var replay = await (await _client.GetAsync($"/v1/sessions/{id}/replay")).Json();
        Assert.Equal(message, replay.GetProperty("turns")[0].GetProperty("userMessage").GetProperty("content").GetString());
        var listed = await (await _client.GetAsync($"/v1/sessions?userId={Uri.EscapeDataString(userId)}")).Json();
        Assert.Equal(id, Assert.Single(listed.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task Metadata_comes_back_as_the_exact_json_text_sent_even_with_escapes_dotnet_cannot_decode()
    {
        const string metadata = """{"note":"lone \ud800 surrogate","nested":{ "a" : [1, 2.50, "\u0000"] }}""";
        var created = await _client.PostAsync("/v1/sessions", Json($$"""{"metadata":{{metadata}}}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Contains(metadata, await created.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var id = (await created.Json()).GetProperty("id").GetString();
        Assert.Contains(metadata, await _client.GetStringAsync($"/v1/sessions/{id}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_whose_text_holds_a_lone_surrogate_is_refused_and_nothing_is_written()
    {
        var id = await _client.CreateSession();
        var response = await _client.PostAsync($"/v1/sessions/{id}/messages", Json("""{"role":"assistant","content":"half \ud83d of an emoji"}"""));
        await response.AssertProblem(400);
        var session = await (await _client.GetAsync($"/v1/sessions/{id}")).Json();
        Assert.Equal(0, session.GetProperty("messageCount").GetInt32());
    }

    [Theory]
    [InlineData("GET", "/openapi/v2.json", 404)]
    [InlineData("GET", "/no/such/route", 404)]
    [InlineData("DELETE", "/v1/compile", 405)]
    [InlineData("PUT", "/v1/sessions", 405)]
    public async Task Framework_errors_are_problems(string method, string path, int status)
    {
        var response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        await response.AssertProblem(status);
    }

    [Fact]
    public async Task An_error_is_a_problem_even_when_the_client_accepts_only_html()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/compile") { Content = Json("""{"query":"wal"}""") };
        request.Headers.Accept.ParseAdd("text/html");
        await (await _client.SendAsync(request)).AssertProblem(400);
    }

    [Fact]
    public async Task A_quoted_charset_is_understood_and_an_unknown_one_is_a_415_problem()
    {
        var quoted = new StringContent("""{"query":"wal","budget":100}""", Encoding.UTF8);
        quoted.Headers.Remove("Content-Type");
        quoted.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=\"utf-8\"");
        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsync("/v1/compile", quoted)).StatusCode);

        var unknown = new StringContent("""{"query":"wal","budget":100}""", Encoding.UTF8);
        unknown.Headers.Remove("Content-Type");
        unknown.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=klingon");
        var problem = await (await _client.PostAsync("/v1/compile", unknown)).AssertProblem(415);
        Assert.Contains("klingon", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_missing_api_key_is_a_401_problem_with_www_authenticate()
    {
        var response = await server.Factory.Client(apiKey: null).GetAsync("/v1/sessions");
        var problem = await response.AssertProblem(401);
        Assert.Contains("X-Api-Key", problem.GetProperty("detail").GetString());
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "ApiKey");
    }

    [Fact]
    public async Task A_wrong_api_key_is_a_401_problem_that_says_so()
    {
        var response = await server.Factory.Client(apiKey: "key-alphA").GetAsync("/v1/sessions");
        var problem = await response.AssertProblem(401);
        Assert.Contains("not recognised", problem.GetProperty("detail").GetString());
        Assert.NotEmpty(response.Headers.WwwAuthenticate);
    }

    [Fact]
    public async Task A_bearer_token_authenticates_as_its_tenant()
    {
        var bearer = server.Factory.Client(apiKey: null);
        bearer.DefaultRequestHeaders.Authorization = new("Bearer", ServerFactory.BetaKey);
        var id = await bearer.CreateSession();
        Assert.Equal(HttpStatusCode.OK, (await server.Factory.Client(ServerFactory.BetaKey).GetAsync($"/v1/sessions/{id}")).StatusCode);
        await (await _client.GetAsync($"/v1/sessions/{id}")).AssertProblem(404);
    }

    [Fact]
    public async Task Health_and_the_openapi_document_need_no_key()
    {
        var anonymous = server.Factory.Client(apiKey: null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/openapi/v1.json")).StatusCode);
    }

    [Fact]
    public void The_key_ring_finds_each_tenant_and_nothing_for_near_misses()
    {
        var options = Microsoft.Extensions.Options.Options.Create(new ServerOptions
        {
            ApiKeys = new(StringComparer.Ordinal) { ["k1-secret"] = "one", ["k2-secret"] = "two" },
        });
        var ring = new ApiKeyRing(options);
        Assert.Equal("one", ring.TenantOf("k1-secret"));
        Assert.Equal("two", ring.TenantOf("k2-secret"));
        Assert.Null(ring.TenantOf("k1-secreT"));
        Assert.Null(ring.TenantOf("k1-secret "));
        Assert.Null(ring.TenantOf(string.Empty));
        Assert.False(ring.IsEmpty);
    }
}
