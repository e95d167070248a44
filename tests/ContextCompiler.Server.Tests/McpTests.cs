using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ContextCompiler.Server.Tests;

/// <summary>
/// MCP at /mcp, driven by the SDK's own client over the real server's HTTP pipeline. The MCP client's HttpClient goes
/// straight to the test server's handler: JSON-RPC responses are not in the OpenAPI document, so the contract check
/// that every ServerFactory client applies would refuse them, while the /v1 calls here still go through it.
/// </summary>
public sealed class McpTests(SharedServer server) : IClassFixture<SharedServer>
{
    private const string Reply = "Enable write-ahead logging with PRAGMA journal_mode=WAL [1]. Readers then never block writers [99].";

    private readonly HttpClient _v1 = server.Factory.Client();

    [Fact]
    public async Task Lists_the_seven_tools_with_their_input_and_output_schemas()
    {
        await using var client = await Connect();
        var tools = (await client.ListToolsAsync()).ToDictionary(t => t.Name);

        Assert.Equal(["add_assistant_message", "check_citations", "compact_session", "compile_context", "replay_session", "session_usage", "take_turn"], tools.Keys.Order());
        var compile = tools["compile_context"].ProtocolTool;
        Assert.Equal(["budget", "corpus", "pathPrefix", "query", "tokenizer"], Properties(compile.InputSchema));
        Assert.Equal(["budget", "query"], Required(compile.InputSchema));
        Assert.Equal("integer", compile.InputSchema.GetProperty("properties").GetProperty("budget").GetProperty("type").GetString());
        Assert.True(compile.Annotations?.ReadOnlyHint);

        // The caller's identity is injected, never asked for; a turn without a session starts one.
        var turn = tools["take_turn"].ProtocolTool;
        Assert.Equal(["contextBudget", "historyBudget", "message", "sessionId", "tokenizer", "totalBudget"], Properties(turn.InputSchema));
        Assert.Equal(["message"], Required(turn.InputSchema));
        Assert.Equal(["content", "sessionId"], Required(tools["add_assistant_message"].ProtocolTool.InputSchema));
        Assert.Equal(["sessionId"], Required(tools["replay_session"].ProtocolTool.InputSchema));
        Assert.Equal(["reply", "sessionId"], Required(tools["check_citations"].ProtocolTool.InputSchema));
        foreach (var name in new[] { "compact_session", "session_usage" })
        {
            Assert.Equal(["historyBudget", "sessionId"], Properties(tools[name].ProtocolTool.InputSchema));
            Assert.Equal(["sessionId"], Required(tools[name].ProtocolTool.InputSchema));
            Assert.True(tools[name].ProtocolTool.Annotations?.IdempotentHint);
        }

        // Compacting stores a summary but changes no message: not read-only, not destructive, and safe to repeat.
        var compact = tools["compact_session"].ProtocolTool;
        Assert.False(compact.Annotations?.ReadOnlyHint);
        Assert.False(compact.Annotations?.DestructiveHint);
        Assert.Equal(["compacted", "compaction", "usage"], Properties(compact.OutputSchema!.Value));
        Assert.True(tools["session_usage"].ProtocolTool.Annotations?.ReadOnlyHint);
        Assert.Contains("evictedMessages", Properties(tools["session_usage"].ProtocolTool.OutputSchema!.Value));
        Assert.All(tools.Values, t => Assert.False(string.IsNullOrWhiteSpace(t.Description)));
        Assert.All(tools.Values, t => Assert.Equal("object", t.ProtocolTool.OutputSchema?.GetProperty("type").GetString()));
        Assert.Contains("citations", Properties(compile.OutputSchema!.Value));
    }

    [Fact]
    public async Task Compile_context_returns_the_same_cited_working_set_as_v1_compile()
    {
        await using var client = await Connect();
        var result = await client.CallToolAsync("compile_context", new Dictionary<string, object?> { ["query"] = "How do I enable write-ahead logging?", ["budget"] = 400 });

        var set = Structured(result);
        Assert.InRange(set.GetProperty("tokenCount").GetInt32(), 1, 400);
        Assert.Contains(set.GetProperty("citations").EnumerateArray(), c => c.GetProperty("path").GetString() == "wal.md");
        Assert.Contains("wal.md", set.GetProperty("text").GetString());
        var http = await (await _v1.PostAsJsonAsync("/v1/compile", new { query = "How do I enable write-ahead logging?", budget = 400 })).Json();
        Assert.Equal(http.GetProperty("manifest").GetProperty("contextHash").GetString(), set.GetProperty("manifest").GetProperty("contextHash").GetString());
    }

    [Fact]
    public async Task Turn_reply_and_replay_report_the_made_up_citation()
    {
        await using var client = await Connect();
        var turn = Structured(await client.CallToolAsync("take_turn", new Dictionary<string, object?> { ["message"] = "How do I enable write-ahead logging?", ["totalBudget"] = 1500 }));
        Assert.True(turn.GetProperty("createdSession").GetBoolean());
        string session = turn.GetProperty("sessionId").GetString()!;
        var workingSet = turn.GetProperty("turn").GetProperty("workingSet");
        Assert.Contains(workingSet.GetProperty("citations").EnumerateArray(), c => c.GetProperty("n").GetInt32() == 1);
        Assert.Equal("user", turn.GetProperty("turn").GetProperty("userMessage").GetProperty("role").GetString());

        var message = Structured(await client.CallToolAsync("add_assistant_message", new Dictionary<string, object?> { ["sessionId"] = session, ["content"] = Reply }));
        Assert.Equal("assistant", message.GetProperty("role").GetString());
        var check = message.GetProperty("citationCheck");
        Assert.Equal([99], Numbers(check, "unknown"));
        Assert.Equal([1], Numbers(check, "used"));

        var replay = Structured(await client.CallToolAsync("replay_session", new Dictionary<string, object?> { ["sessionId"] = session }));
        var only = Assert.Single(replay.GetProperty("turns").EnumerateArray());
        Assert.Equal("How do I enable write-ahead logging?", only.GetProperty("userMessage").GetProperty("content").GetString());
        Assert.Equal(workingSet.GetProperty("manifest").GetProperty("contextHash").GetString(), only.GetProperty("workingSet").GetProperty("manifest").GetProperty("contextHash").GetString());
        Assert.Equal(Reply, only.GetProperty("assistantMessage").GetProperty("content").GetString());
        Assert.Equal([99], Numbers(only.GetProperty("assistantMessage").GetProperty("citationCheck"), "unknown"));

        // The session is the same one /v1 sees.
        Assert.Equal(2, (await (await _v1.GetAsync($"/v1/sessions/{session}")).Json()).GetProperty("messageCount").GetInt32());
    }

    [Fact]
    public async Task Check_citations_reports_unknown_markers_and_stores_nothing()
    {
        await using var client = await Connect();
        string session = await _v1.CreateSession();
        await _v1.Turn(session, "How do I enable write-ahead logging?");

        var check = Structured(await client.CallToolAsync("check_citations", new Dictionary<string, object?> { ["sessionId"] = session, ["reply"] = Reply }));

        Assert.Equal([99], Numbers(check, "unknown"));
        Assert.Equal([1], Numbers(check, "used"));
        Assert.Equal(2, check.GetProperty("markers").GetInt32());
        var stored = await (await _v1.GetAsync($"/v1/sessions/{session}")).Json();
        Assert.Equal(1, stored.GetProperty("messageCount").GetInt32());
    }

    [Fact]
    public async Task A_request_without_an_api_key_is_a_401()
    {
        using var http = Http();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");

        using var response = await http.SendAsync(request);

        await response.AssertProblem(401);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => Connect(apiKey: null));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task Another_tenants_session_is_not_found()
    {
        string session = await _v1.CreateSession();
        await _v1.Turn(session, "How do I enable write-ahead logging?");
        await using var beta = await Connect(ServerFactory.BetaKey);

        foreach (var (tool, arguments) in new (string, Dictionary<string, object?>)[]
        {
            ("replay_session", new() { ["sessionId"] = session }),
            ("check_citations", new() { ["sessionId"] = session, ["reply"] = Reply }),
            ("add_assistant_message", new() { ["sessionId"] = session, ["content"] = Reply }),
            ("take_turn", new() { ["sessionId"] = session, ["message"] = "And checkpoints?" }),
            ("compact_session", new() { ["sessionId"] = session, ["historyBudget"] = 20 }),
            ("session_usage", new() { ["sessionId"] = session }),
        })
        {
            var result = await beta.CallToolAsync(tool, arguments);
            Assert.Equal($"Not found: Session '{session}' was not found.", Error(result));
        }

        Assert.Equal(1, (await (await _v1.GetAsync($"/v1/sessions/{session}")).Json()).GetProperty("messageCount").GetInt32());
        Assert.Equal(0, (await (await _v1.GetAsync($"/v1/sessions/{session}/compactions")).Json()).GetArrayLength());
    }

    [Fact]
    public async Task Compact_session_folds_once_and_session_usage_reports_the_same_figures_as_v1()
    {
        await using var client = await Connect();
        string session = await _v1.CreateSession(new { compaction = "off" });
        foreach (int i in Enumerable.Range(1, 8))
        {
            await _v1.Say(session, "system", $"Note {i:00}: keep setting {i:00}.");
        }

        var before = Structured(await client.CallToolAsync("session_usage", new Dictionary<string, object?> { ["sessionId"] = session, ["historyBudget"] = 60 }));
        Assert.Equal(8, before.GetProperty("messages").GetInt32());
        Assert.True(before.GetProperty("evictedMessages").GetInt32() > 0);
        Assert.Equal(0, before.GetProperty("compactions").GetInt32());

        var first = Structured(await client.CallToolAsync("compact_session", new Dictionary<string, object?> { ["sessionId"] = session, ["historyBudget"] = 60 }));
        var again = Structured(await client.CallToolAsync("compact_session", new Dictionary<string, object?> { ["sessionId"] = session, ["historyBudget"] = 60 }));

        Assert.True(first.GetProperty("compacted").GetBoolean());
        var compaction = first.GetProperty("compaction");
        Assert.Equal("manual", compaction.GetProperty("trigger").GetString());
        Assert.Equal(1, compaction.GetProperty("fromSequence").GetInt64());
        Assert.Contains("Note 01", compaction.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, first.GetProperty("usage").GetProperty("evictedMessages").GetInt32());
        Assert.False(again.GetProperty("compacted").GetBoolean());
        Assert.Equal(compaction.GetProperty("id").GetString(), again.GetProperty("compaction").GetProperty("id").GetString());
        var stored = Assert.Single((await (await _v1.GetAsync($"/v1/sessions/{session}/compactions")).Json()).EnumerateArray());
        Assert.Equal(compaction.GetProperty("id").GetString(), stored.GetProperty("id").GetString());

        var after = Structured(await client.CallToolAsync("session_usage", new Dictionary<string, object?> { ["sessionId"] = session, ["historyBudget"] = 60 }));
        var http = await (await _v1.GetAsync($"/v1/sessions/{session}/usage?historyBudget=60")).Json();
        Assert.Equal(http.GetRawText(), after.GetRawText());
        Assert.Equal(compaction.GetProperty("throughSequence").GetInt64(), after.GetProperty("summaryThroughSequence").GetInt64());
        Assert.True(after.GetProperty("summaryTokens").GetInt32() > 0);

        var bad = await client.CallToolAsync("compact_session", new Dictionary<string, object?> { ["sessionId"] = session, ["historyBudget"] = 0 });
        Assert.StartsWith("Invalid request: ", Error(bad));
    }

    [Fact]
    public async Task Bad_input_is_a_tool_error_with_the_reason_and_leaves_nothing_behind()
    {
        await using var client = await Connect();
        int sessionsBefore = (await (await _v1.GetAsync("/v1/sessions")).Json()).GetProperty("total").GetInt32();

        var budget = await client.CallToolAsync("compile_context", new Dictionary<string, object?> { ["query"] = "wal", ["budget"] = 0 });
        Assert.Equal($"Invalid request: budget must be between 1 and {ServerFactory.MaxBudget}, not 0.", Error(budget));

        // A failed first turn deletes the session it started.
        var empty = await client.CallToolAsync("take_turn", new Dictionary<string, object?> { ["message"] = "" });
        Assert.Equal("Invalid request: The message must not be empty.", Error(empty));
        Assert.Equal(sessionsBefore, (await (await _v1.GetAsync("/v1/sessions")).Json()).GetProperty("total").GetInt32());

        string session = await _v1.CreateSession();
        var early = await client.CallToolAsync("check_citations", new Dictionary<string, object?> { ["sessionId"] = session, ["reply"] = Reply });
        Assert.StartsWith("Conflict: Session", Error(early));
        var overBudget = await client.CallToolAsync("take_turn", new Dictionary<string, object?> { ["sessionId"] = session, ["message"] = "wal", ["contextBudget"] = ServerFactory.MaxBudget + 1 });
        Assert.Equal($"Invalid request: contextBudget must be between 1 and {ServerFactory.MaxBudget}, not {ServerFactory.MaxBudget + 1}.", Error(overBudget));
        Assert.Equal(0, (await (await _v1.GetAsync($"/v1/sessions/{session}")).Json()).GetProperty("messageCount").GetInt32());
    }

    [Fact]
    public async Task Mcp_requests_count_against_the_tenants_rate_limit()
    {
        var settings = new Dictionary<string, string>
        {
            ["ContextCompiler:RateLimit:Enabled"] = "true",
            ["ContextCompiler:RateLimit:PermitsPerWindow"] = "3",
            ["ContextCompiler:RateLimit:Window"] = "00:10:00",
        };
        using var factory = new ServerFactory(ServerFactory.NewFolder(), settings);
        var alpha = factory.Client();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await alpha.GetAsync("/v1/sessions")).StatusCode);
        }

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => Connect(factory));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        await using var beta = await Connect(factory, ServerFactory.BetaKey);
        Assert.Equal(7, (await beta.ListToolsAsync()).Count);
        factory.DeleteFolder();
    }

    private HttpClient Http() => Http(server.Factory);

    private static HttpClient Http(ServerFactory factory) => new(factory.Server.CreateHandler()) { BaseAddress = factory.Server.BaseAddress };

    private Task<McpClient> Connect(string? apiKey = ServerFactory.AlphaKey) => Connect(server.Factory, apiKey);

    private static async Task<McpClient> Connect(ServerFactory factory, string? apiKey = ServerFactory.AlphaKey)
    {
        var http = Http(factory);
        var options = new HttpClientTransportOptions
        {
            Endpoint = new Uri(http.BaseAddress!, "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = apiKey is null ? null : new Dictionary<string, string> { ["X-Api-Key"] = apiKey },
        };
        return await McpClient.CreateAsync(new HttpClientTransport(options, http, ownsHttpClient: true));
    }

    private static JsonElement Structured(CallToolResult result)
    {
        Assert.True(result.IsError is not true, Text(result));
        Assert.NotNull(result.StructuredContent);
        return result.StructuredContent.Value;
    }

    private static string Error(CallToolResult result)
    {
        Assert.True(result.IsError, "Expected a tool error, got: " + Text(result));
        Assert.Null(result.StructuredContent);
        return Text(result);
    }

    private static string Text(CallToolResult result) => string.Concat(result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    private static List<string> Properties(JsonElement schema) => schema.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order().ToList();

    private static List<string> Required(JsonElement schema) =>
        schema.TryGetProperty("required", out var required) ? required.EnumerateArray().Select(r => r.GetString()!).Order().ToList() : [];

    private static List<int> Numbers(JsonElement check, string name) => check.GetProperty(name).EnumerateArray().Select(n => n.GetInt32()).ToList();
}
