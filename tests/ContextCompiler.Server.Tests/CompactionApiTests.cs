using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ContextCompiler.Engine;
using ContextCompiler.Engine.Sessions.Compacting;
using ContextCompiler.Tests.Shared;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.Server.Tests;

/// <summary>Usage, compaction and their settings over HTTP, on the real server.</summary>
public sealed class CompactionApiTests(SharedServer server) : IClassFixture<SharedServer>
{
    private readonly HttpClient _client = server.Factory.Client();

    [Fact]
    public async Task A_long_session_compacts_on_a_turn_and_reports_its_usage_in_the_turn_the_usage_route_and_the_replay()
    {
        var id = await _client.CreateSession(new { compaction = "auto", compactionThreshold = 2, summaryShare = 0.4 });
        var session = await (await _client.GetAsync($"/v1/sessions/{id}")).Json();
        Assert.Equal("auto", session.GetProperty("compaction").GetProperty("mode").GetString());
        Assert.Equal(2, session.GetProperty("compaction").GetProperty("threshold").GetInt32());

        await _client.Turn(id, "How do I enable write-ahead logging?", new { contextBudget = 200, historyBudget = 80 });
        await _client.Say(id, "assistant", "Run PRAGMA journal_mode=WAL [1]. The mode is stored in the database file.");
        for (int i = 0; i < 4; i++)
        {
            await _client.Say(id, "system", $"Reminder {i}: the application writes often and reads rarely, case {i}.");
        }

        var turn = await _client.Turn(id, "Can I undo that later?", new { contextBudget = 200, historyBudget = 80 });

        var compaction = turn.GetProperty("compaction");
        Assert.Equal(1, compaction.GetProperty("number").GetInt32());
        Assert.Equal("extractive", compaction.GetProperty("summarizer").GetString());
        Assert.Equal("auto", compaction.GetProperty("trigger").GetString());
        Assert.StartsWith("- User asked: How do I enable write-ahead logging?", compaction.GetProperty("summary").GetString(), StringComparison.Ordinal);
        var history = turn.GetProperty("history");
        Assert.Equal(compaction.GetProperty("id").GetString(), history.GetProperty("summary").GetProperty("id").GetString());
        Assert.StartsWith("Summary of messages 1-", history.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.InRange(history.GetProperty("tokenCount").GetInt32(), 1, 80);
        var usage = turn.GetProperty("usage");
        Assert.Equal(7, usage.GetProperty("messages").GetInt32());
        Assert.Equal(history.GetProperty("tokenCount").GetInt32(), usage.GetProperty("historyTokens").GetInt32());
        Assert.Equal(history.GetProperty("summaryTokens").GetInt32(), usage.GetProperty("summaryTokens").GetInt32());
        Assert.Equal(1, usage.GetProperty("compactions").GetInt32());
        Assert.Equal(0, usage.GetProperty("evictedMessages").GetInt32());

        var now = await (await _client.GetAsync($"/v1/sessions/{id}/usage")).Json();
        Assert.Equal(80, now.GetProperty("historyBudget").GetInt32());
        Assert.Equal(7, now.GetProperty("messages").GetInt32());
        Assert.Equal(compaction.GetProperty("throughSequence").GetInt64(), now.GetProperty("summaryThroughSequence").GetInt64());

        var replay = await (await _client.GetAsync($"/v1/sessions/{id}/replay")).Json();
        var where = replay.GetProperty("turns").EnumerateArray().Single(t => t.GetProperty("compactions").GetArrayLength() > 0);
        Assert.Equal(compaction.GetProperty("id").GetString(), where.GetProperty("compactions")[0].GetProperty("id").GetString());
        Assert.Equal(1, replay.GetProperty("usage").GetProperty("compactions").GetInt32());
        var listed = await (await _client.GetAsync($"/v1/sessions/{id}/compactions")).Json();
        Assert.Equal(compaction.GetRawText(), listed[0].GetRawText());
        // Every message is still there, as sent.
        var messages = await (await _client.GetAsync($"/v1/sessions/{id}/replay")).Json();
        Assert.Equal(7, messages.GetProperty("session").GetProperty("messageCount").GetInt32());
    }

    [Fact]
    public async Task Compacting_on_demand_twice_stores_one_compaction()
    {
        var id = await _client.CreateSession(new { compaction = "off" });
        for (int i = 0; i < 6; i++)
        {
            await _client.Say(id, "assistant", $"Fact {i}: checkpoints copy the write-ahead log back into the database, case {i}.");
        }

        var first = await (await _client.PostAsJsonAsync($"/v1/sessions/{id}/compact", new { historyBudget = 120 })).Json();
        var retry = await (await _client.PostAsJsonAsync($"/v1/sessions/{id}/compact", new { historyBudget = 120 })).Json();

        Assert.True(first.GetProperty("compacted").GetBoolean());
        Assert.False(retry.GetProperty("compacted").GetBoolean());
        Assert.Equal(first.GetProperty("compaction").GetRawText(), retry.GetProperty("compaction").GetRawText());
        Assert.Equal("manual", first.GetProperty("compaction").GetProperty("trigger").GetString());
        Assert.Equal(1, (await (await _client.GetAsync($"/v1/sessions/{id}/compactions")).Json()).GetArrayLength());
        // Off stops turns from compacting, not an explicit request; nothing to fold on a session without messages.
        var empty = await _client.CreateSession();
        var none = await (await _client.PostAsync($"/v1/sessions/{empty}/compact", null)).Json();
        Assert.False(none.GetProperty("compacted").GetBoolean());
        Assert.Equal(JsonValueKind.Null, none.GetProperty("compaction").ValueKind);
    }

    [Theory]
    [InlineData("""{"compaction": "sometimes"}""")]
    [InlineData("""{"compactionThreshold": 0}""")]
    [InlineData("""{"summaryShare": 1.5}""")]
    [InlineData("""{"summaryShare": 0}""")]
    public async Task Bad_compaction_settings_are_refused_with_a_problem_and_store_nothing(string settings)
    {
        var before = await (await _client.GetAsync("/v1/sessions")).Json();
        var created = await _client.PostAsync("/v1/sessions", JsonContent(settings));
        await created.AssertProblem(400);
        var after = await (await _client.GetAsync("/v1/sessions")).Json();
        Assert.Equal(before.GetProperty("total").GetInt32(), after.GetProperty("total").GetInt32());

        var id = await _client.CreateSession();
        var body = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(settings)!;
        body["message"] = JsonSerializer.SerializeToElement("wal?");
        await (await _client.PostAsJsonAsync($"/v1/sessions/{id}/turns", body)).AssertProblem(400);
        Assert.Equal(0, (await (await _client.GetAsync($"/v1/sessions/{id}")).Json()).GetProperty("messageCount").GetInt32());
    }

    [Fact]
    public async Task Usage_and_compact_answer_problems_for_unknown_sessions_and_bad_budgets()
    {
        string unknown = Engine.Sessions.SessionIds.New();
        await (await _client.GetAsync($"/v1/sessions/{unknown}/usage")).AssertProblem(404);
        await (await _client.PostAsync($"/v1/sessions/{unknown}/compact", null)).AssertProblem(404);
        await (await _client.GetAsync($"/v1/sessions/{unknown}/compactions")).AssertProblem(404);
        var id = await _client.CreateSession();
        await (await _client.GetAsync($"/v1/sessions/{id}/usage?historyBudget=0")).AssertProblem(400);
        await (await _client.PostAsJsonAsync($"/v1/sessions/{id}/compact", new { historyBudget = -5 })).AssertProblem(400);
        await (await _client.PostAsync($"/v1/sessions/{id}/compact", JsonContent("""{"historyBudget": "many"}"""))).AssertProblem(400);
        // Another tenant's session is not found.
        var other = server.Factory.Client(ServerFactory.BetaKey);
        await (await other.GetAsync($"/v1/sessions/{id}/usage")).AssertProblem(404);
    }

    [Fact]
    public async Task A_configured_model_writes_the_summary_and_its_failure_falls_back_to_the_extractive_one()
    {
        var model = new ScriptedChatClient((_, n) => n == 0 ? "- The user enabled WAL (sqlite-docs/wal.md)." : new HttpRequestException("upstream down"));
        using var factory = new ServerFactory(ServerFactory.NewFolder(), services: s => s.AddKeyedSingleton<IChatClient>(ContextCompiler.Engine.ContextCompilerServiceCollectionExtensions.SummarizerKey, model));
        try
        {
            var client = factory.Client();
            var id = await client.CreateSession(new { compaction = "off" });
            for (int i = 0; i < 6; i++)
            {
                await client.Say(id, "assistant", $"Fact {i}: checkpoints copy the write-ahead log back into the database, case {i}.");
            }

            var first = (await (await client.PostAsJsonAsync($"/v1/sessions/{id}/compact", new { historyBudget = 60 })).Json()).GetProperty("compaction");
            Assert.Equal(("model", "scripted-model", ChatClientSummarizer.PromptHash), (first.GetProperty("summarizer").GetString(), first.GetProperty("model").GetString(), first.GetProperty("promptHash").GetString()));
            Assert.Equal("- The user enabled WAL (sqlite-docs/wal.md).", first.GetProperty("summary").GetString());

            for (int i = 0; i < 4; i++)
            {
                await client.Say(id, "assistant", $"Later fact {i}: a checkpoint can be started with PRAGMA wal_checkpoint, case {i}.");
            }

            var response = await client.PostAsJsonAsync($"/v1/sessions/{id}/compact", new { historyBudget = 60 });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var second = (await response.Json()).GetProperty("compaction");
            Assert.Equal("extractive", second.GetProperty("summarizer").GetString());
            Assert.Contains("upstream down", second.GetProperty("fallbackReason").GetString(), StringComparison.Ordinal);
            // Recursive even across the fallback: the model's summary is carried into the extractive one.
            Assert.StartsWith("- The user enabled WAL (sqlite-docs/wal.md).", second.GetProperty("summary").GetString(), StringComparison.Ordinal);
            Assert.Equal(2, model.Requests.Count);
        }
        finally
        {
            factory.DeleteFolder();
        }
    }

    [Fact]
    public async Task The_operator_s_settings_apply_to_sessions_without_their_own()
    {
        var settings = new Dictionary<string, string>
        {
            ["ContextCompiler:Sessions:Compaction:Mode"] = "off",
            ["ContextCompiler:Sessions:Compaction:Threshold"] = "5",
        };
        using var factory = new ServerFactory(ServerFactory.NewFolder(), settings);
        try
        {
            var client = factory.Client();
            var id = await client.CreateSession();
            for (int i = 0; i < 8; i++)
            {
                await client.Say(id, "system", $"Reminder {i}: the application writes often and reads rarely, case {i}.");
            }

            var turn = await client.Turn(id, "How do I enable write-ahead logging?", new { contextBudget = 200, historyBudget = 60 });
            Assert.Equal(JsonValueKind.Null, turn.GetProperty("compaction").ValueKind);
            var usage = turn.GetProperty("usage");
            Assert.Equal(("off", 5, 0.3), (usage.GetProperty("compaction").GetProperty("mode").GetString(),
                usage.GetProperty("compaction").GetProperty("threshold").GetInt32(), usage.GetProperty("compaction").GetProperty("summaryShare").GetDouble()));
            Assert.True(usage.GetProperty("evictedMessages").GetInt32() > 0);

            // The session's own setting wins over the operator's.
            var auto = await client.CreateSession(new { compaction = "auto", compactionThreshold = 1 });
            for (int i = 0; i < 8; i++)
            {
                await client.Say(auto, "system", $"Reminder {i}: the application writes often and reads rarely, case {i}.");
            }

            var compacted = await client.Turn(auto, "How do I enable write-ahead logging?", new { contextBudget = 200, historyBudget = 90 });
            Assert.Equal(JsonValueKind.Object, compacted.GetProperty("compaction").ValueKind);
        }
        finally
        {
            factory.DeleteFolder();
        }
    }

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
