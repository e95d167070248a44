using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace ContextCompiler.Server.Tests;

/// <summary>POST /v1/sessions/{id}/replay/recompile: stored turns compiled again under other settings, compared, never stored.</summary>
public sealed class RecompileTests(SharedServer server) : IClassFixture<SharedServer>
{
    public const int StoredBudget = 600;

    private readonly HttpClient _client = server.Factory.Client();

    /// <summary>A session of three user turns (one answered) at <see cref="StoredBudget"/> context tokens.</summary>
    public static async Task<string> ThreeTurnSession(HttpClient client)
    {
        var id = await client.CreateSession();
        await client.Turn(id, "How do I enable write-ahead logging?", new { contextBudget = StoredBudget });
        await client.Say(id, "assistant", "Run PRAGMA journal_mode=WAL.");
        await client.Turn(id, "How does a checkpoint move WAL content back into the database?", new { contextBudget = StoredBudget });
        await client.Turn(id, "What does ON CONFLICT DO UPDATE do in an upsert?", new { contextBudget = StoredBudget });
        return id;
    }

    private async Task<JsonElement> Recompile(string id, object? body)
    {
        var response = body is null
            ? await _client.PostAsync($"/v1/sessions/{id}/replay/recompile", null)
            : await _client.PostAsJsonAsync($"/v1/sessions/{id}/replay/recompile", body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Json();
    }

    private static List<JsonElement> Turns(JsonElement report) => report.GetProperty("turns").EnumerateArray().ToList();

    [Fact]
    public async Task Recompiling_with_the_stored_settings_reproduces_every_turn_byte_for_byte()
    {
        var id = await ThreeTurnSession(_client);
        var report = await Recompile(id, null);

        var turns = Turns(report);
        Assert.Equal([1L, 3, 4], turns.Select(t => t.GetProperty("sequence").GetInt64()));
        foreach (var turn in turns)
        {
            Assert.True(turn.GetProperty("identical").GetBoolean());
            Assert.Equal(turn.GetProperty("storedContextHash").GetString(), turn.GetProperty("newContextHash").GetString());
            Assert.Equal(1.0, turn.GetProperty("jaccard").GetDouble());
            Assert.Equal(0, turn.GetProperty("tokenDelta").GetInt32());
            Assert.Equal(0, turn.GetProperty("added").GetArrayLength());
            Assert.Equal(0, turn.GetProperty("removed").GetArrayLength());
            Assert.Equal(turn.GetProperty("storedCitations").GetInt32(), turn.GetProperty("kept").GetArrayLength());
            Assert.Equal(StoredBudget, turn.GetProperty("budget").GetInt32());
        }

        var summary = report.GetProperty("summary");
        Assert.Equal(3, summary.GetProperty("turns").GetInt32());
        Assert.Equal(3, summary.GetProperty("identical").GetInt32());
        Assert.Equal(1.0, summary.GetProperty("meanJaccard").GetDouble());
        Assert.Equal(0.0, summary.GetProperty("meanTokenDelta").GetDouble());
        Assert.Equal(0, summary.GetProperty("added").GetInt32() + summary.GetProperty("removed").GetInt32());
    }

    [Fact]
    public async Task The_stored_hash_in_the_report_is_the_one_the_turn_stored()
    {
        var id = await _client.CreateSession();
        var turn = await _client.Turn(id, "How do I enable write-ahead logging?", new { contextBudget = 300 });
        var report = await Recompile(id, new { });
        Assert.Equal(turn.GetProperty("workingSet").GetProperty("manifest").GetProperty("contextHash").GetString(),
            Turns(report).Single().GetProperty("storedContextHash").GetString());
    }

    [Fact]
    public async Task A_turn_stored_with_explain_details_is_read_and_reproduced()
    {
        var id = await _client.CreateSession();
        var response = await _client.PostAsJsonAsync($"/v1/sessions/{id}/turns", new { message = "What does <busy> & \"locked\" mean?", contextBudget = 300, explain = true });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var report = await Recompile(id, new { });
        Assert.True(Turns(report).Single().GetProperty("identical").GetBoolean());
    }

    [Fact]
    public async Task A_smaller_budget_cites_no_more_and_costs_fewer_tokens()
    {
        var id = await ThreeTurnSession(_client);
        var report = await Recompile(id, new { budget = 120 });

        Assert.Equal(120, report.GetProperty("budget").GetInt32());
        var turns = Turns(report);
        foreach (var turn in turns)
        {
            Assert.Equal(StoredBudget, turn.GetProperty("storedBudget").GetInt32());
            Assert.Equal(120, turn.GetProperty("budget").GetInt32());
            Assert.InRange(turn.GetProperty("newTokens").GetInt32(), 0, 120);
            Assert.True(turn.GetProperty("tokenDelta").GetInt32() < 0);
            Assert.True(turn.GetProperty("newCitations").GetInt32() <= turn.GetProperty("storedCitations").GetInt32());
            Assert.False(turn.GetProperty("identical").GetBoolean());
            Assert.True(turn.GetProperty("jaccard").GetDouble() < 1.0);
        }

        Assert.Contains(turns, t => t.GetProperty("removed").GetArrayLength() > 0);
        var summary = report.GetProperty("summary");
        Assert.True(summary.GetProperty("meanTokenDelta").GetDouble() < 0);
        Assert.Equal(0, summary.GetProperty("identical").GetInt32());
        Assert.Equal(turns.Sum(t => t.GetProperty("removed").GetArrayLength()), summary.GetProperty("removed").GetInt32());
    }

    [Fact]
    public async Task Options_are_applied_on_top_of_the_recorded_configuration_and_the_report_shows_the_differences()
    {
        var id = await ThreeTurnSession(_client);
        // Vectors alone instead of BM25 fused with vectors: the stored budget, different evidence.
        var report = await Recompile(id, new { options = new { vectorWeight = 1 } });

        Assert.Equal(["vectorWeight=1"], report.GetProperty("overrides").EnumerateArray().Select(o => o.GetString()!));
        Assert.False(report.TryGetProperty("budget", out _));
        var turns = Turns(report);
        Assert.Contains(turns, t => !t.GetProperty("identical").GetBoolean());
        Assert.Contains(turns, t => t.GetProperty("added").GetArrayLength() + t.GetProperty("removed").GetArrayLength() > 0);
        Assert.All(turns, t => Assert.Equal(StoredBudget, t.GetProperty("budget").GetInt32()));
        var summary = report.GetProperty("summary");
        Assert.True(summary.GetProperty("identical").GetInt32() < 3);
        Assert.Equal(turns.Sum(t => t.GetProperty("added").GetArrayLength()), summary.GetProperty("added").GetInt32());
        Assert.Equal(Math.Round(turns.Average(t => t.GetProperty("jaccard").GetDouble()), 6), summary.GetProperty("meanJaccard").GetDouble(), 6);
        foreach (var turn in turns)
        {
            Assert.Equal(turn.GetProperty("storedTokens").GetInt32() + turn.GetProperty("tokenDelta").GetInt32(), turn.GetProperty("newTokens").GetInt32());
            Assert.InRange(turn.GetProperty("jaccard").GetDouble(), 0.0, 1.0);
        }
    }

    [Fact]
    public async Task Recompiling_changes_nothing_stored()
    {
        var id = await ThreeTurnSession(_client);
        var before = await _client.GetStringAsync($"/v1/sessions/{id}/replay");
        var session = await (await _client.GetAsync($"/v1/sessions/{id}")).Json();

        await Recompile(id, new { budget = 90, options = new { fusion = "rrf", candidates = 5 } });
        await Recompile(id, null);

        Assert.Equal(before, await _client.GetStringAsync($"/v1/sessions/{id}/replay"));
        var after = await (await _client.GetAsync($"/v1/sessions/{id}")).Json();
        Assert.Equal(4, after.GetProperty("messageCount").GetInt32());
        Assert.Equal(session.GetProperty("updatedAt").GetString(), after.GetProperty("updatedAt").GetString());
    }

    [Fact]
    public async Task A_session_without_user_turns_has_an_empty_report()
    {
        var id = await _client.CreateSession();
        await _client.Say(id, "system", "You answer SQLite questions.");
        var report = await Recompile(id, new { budget = 50 });
        Assert.Empty(Turns(report));
        Assert.Equal(0, report.GetProperty("summary").GetProperty("turns").GetInt32());
        Assert.Equal(1.0, report.GetProperty("summary").GetProperty("meanJaccard").GetDouble());
    }

    [Fact]
    public async Task The_report_has_the_documented_shape()
    {
        var id = await _client.CreateSession();
        await _client.Turn(id, "How do I enable write-ahead logging?", new { contextBudget = 300 });
        var report = await Recompile(id, new { budget = 200 });

        Assert.Equal(id, report.GetProperty("sessionId").GetString());
        Assert.Equal(0, report.GetProperty("overrides").GetArrayLength());
        var turn = Turns(report).Single();
        foreach (var name in new[]
        {
            "sequence", "messageId", "query", "storedBudget", "budget", "storedTokens", "newTokens", "tokenDelta", "storedCitations", "newCitations",
            "added", "removed", "kept", "jaccard", "storedContextHash", "newContextHash", "identical",
        })
        {
            Assert.True(turn.TryGetProperty(name, out _), $"missing {name}");
        }

        Assert.Equal("How do I enable write-ahead logging?", turn.GetProperty("query").GetString());
        var range = turn.GetProperty("kept").EnumerateArray().Concat(turn.GetProperty("added").EnumerateArray()).First();
        Assert.Equal(["corpus", "path", "startLine", "endLine"], range.EnumerateObject().Select(p => p.Name));
        foreach (var name in new[] { "turns", "meanJaccard", "added", "removed", "kept", "meanTokenDelta", "identical" })
        {
            Assert.True(report.GetProperty("summary").TryGetProperty(name, out _), $"summary missing {name}");
        }
    }

    [Fact]
    public async Task An_unknown_session_is_a_404_problem() =>
        await (await _client.PostAsJsonAsync("/v1/sessions/no-such-session/replay/recompile", new { })).AssertProblem(404);

    [Fact]
    public async Task Another_tenants_session_is_a_404_problem()
    {
        var id = await _client.CreateSession();
        await _client.Turn(id, "What is WAL?");
        var beta = server.Factory.Client(ServerFactory.BetaKey);
        await (await beta.PostAsJsonAsync($"/v1/sessions/{id}/replay/recompile", new { })).AssertProblem(404);
    }

    [Fact]
    public async Task An_unknown_option_is_a_400_problem_naming_it()
    {
        var id = await _client.CreateSession();
        var problem = await (await _client.PostAsJsonAsync($"/v1/sessions/{id}/replay/recompile", new { options = new { nope = 1 } })).AssertProblem(400);
        Assert.Contains("nope", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task An_invalid_option_value_is_a_400_problem()
    {
        var id = await _client.CreateSession();
        await (await _client.PostAsJsonAsync($"/v1/sessions/{id}/replay/recompile", new { options = new { fusion = "magic" } })).AssertProblem(400);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(ServerFactory.MaxBudget + 1)]
    public async Task A_budget_out_of_range_is_a_400_problem(int budget)
    {
        var id = await _client.CreateSession();
        await (await _client.PostAsJsonAsync($"/v1/sessions/{id}/replay/recompile", new { budget })).AssertProblem(400);
    }

    [Fact]
    public async Task The_route_is_in_the_OpenAPI_document()
    {
        var text = await server.Factory.Client(apiKey: null).GetStringAsync("/openapi/v1.json");
        Assert.Contains("/v1/sessions/{id}/replay/recompile", text);
        Assert.Contains("RecompileReplay", text);
    }
}
