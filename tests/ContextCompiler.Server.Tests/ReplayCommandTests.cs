using System.Net.Http.Json;
using System.CommandLine;
using System.Text.Json;
using ContextCompiler.Cli.Commands;

namespace ContextCompiler.Server.Tests;

/// <summary><c>contextc replay</c> run in-process against the database a real server wrote.</summary>
public sealed class ReplayCommandTests(SharedServer server) : IClassFixture<SharedServer>
{
    private readonly HttpClient _client = server.Factory.Client();

    private async Task<(int Exit, string Output, string Error)> Contextc(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        string[] all = [.. args, "--db", server.Factory.DatabasePath, "--tenant", "alpha"];
        int exit = await ReplayCommand.Create().Parse(all).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Recompile_prints_a_row_per_turn_and_the_totals()
    {
        var id = await RecompileTests.ThreeTurnSession(_client);
        var (exit, output, error) = await Contextc(id, "--recompile");

        Assert.True(exit == 0, error);
        var lines = output.TrimEnd().Split('\n');
        Assert.Equal($"session {id} recompiled with the stored settings", lines[0]);
        Assert.Contains("tokens stored -> new", lines[1]);
        Assert.Equal(["1", "3", "4"], lines[2..5].Select(l => l.Trim().Split(' ')[0]));
        Assert.All(lines[2..5], l => Assert.EndsWith("1.000  yes", l));
        Assert.StartsWith("3 turns, 3 identical, mean Jaccard 1.000, mean token delta 0.0", lines[5]);
    }

    [Fact]
    public async Task Replay_prints_each_compaction_after_its_turn_and_the_usage()
    {
        var id = await _client.CreateSession(new { compaction = "off" });
        await _client.Turn(id, "How do I enable write-ahead logging?", new { contextBudget = 200, historyBudget = 120 });
        for (int i = 0; i < 5; i++)
        {
            await _client.Say(id, "assistant", $"Fact {i}: checkpoints copy the write-ahead log back into the database, case {i}.");
        }

        var compacted = await (await _client.PostAsJsonAsync($"/v1/sessions/{id}/compact", new { historyBudget = 120 })).Json();
        var compaction = compacted.GetProperty("compaction");
        var (exit, output, error) = await Contextc(id);

        Assert.True(exit == 0, error);
        var lines = output.TrimEnd().Split('\n');
        int at = Array.FindIndex(lines, l => l.StartsWith("    compaction 1 (manual, extractive): messages 1-", StringComparison.Ordinal));
        Assert.True(at > 0, output);
        Assert.StartsWith("[6] Assistant: Fact 4", lines[at - 1], StringComparison.Ordinal);
        Assert.Equal("      - User asked: How do I enable write-ahead logging?", lines[at + 1]);
        Assert.EndsWith($"summary of 1-{compaction.GetProperty("throughSequence").GetInt64()} in {compaction.GetProperty("tokenCount").GetInt32()} tokens", lines[at]);
        Assert.StartsWith("usage: 6 messages", lines[^1], StringComparison.Ordinal);
        Assert.Contains("1 compactions", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recompile_json_with_a_budget_and_options_is_the_report()
    {
        var id = await RecompileTests.ThreeTurnSession(_client);
        var (exit, output, error) = await Contextc(id, "--recompile", "--budget", "100", "--set", "fusion=rrf", "--set", "candidates=10", "--json");

        Assert.True(exit == 0, error);
        using var document = JsonDocument.Parse(output);
        var report = document.RootElement;
        Assert.Equal(id, report.GetProperty("sessionId").GetString());
        Assert.Equal(100, report.GetProperty("budget").GetInt32());
        Assert.Equal(["fusion=rrf", "candidates=10"], report.GetProperty("overrides").EnumerateArray().Select(o => o.GetString()!));
        var turns = report.GetProperty("turns").EnumerateArray().ToList();
        Assert.Equal(3, turns.Count);
        Assert.All(turns, t => Assert.InRange(t.GetProperty("newTokens").GetInt32(), 0, 100));
        Assert.True(report.GetProperty("summary").GetProperty("meanTokenDelta").GetDouble() < 0);
    }

    [Fact]
    public async Task Recompile_leaves_the_stored_replay_unchanged()
    {
        var id = await RecompileTests.ThreeTurnSession(_client);
        var (_, before, _) = await Contextc(id, "--json");
        var (exit, _, error) = await Contextc(id, "--recompile", "--budget", "80", "--set", "vectorWeight=0");
        Assert.True(exit == 0, error);
        var (_, after, _) = await Contextc(id, "--json");

        Assert.Equal(before, after);
        Assert.Equal(before.TrimEnd(), await _client.GetStringAsync($"/v1/sessions/{id}/replay"));
    }

    [Fact]
    public async Task Without_recompile_it_prints_the_stored_turns()
    {
        var id = await _client.CreateSession();
        await _client.Turn(id, "What is WAL?", new { contextBudget = 200 });
        var (exit, output, _) = await Contextc(id);
        Assert.Equal(0, exit);
        Assert.StartsWith("[1] User: What is WAL?", output);
        Assert.Contains("/200 tokens", output);
    }

    [Fact]
    public async Task An_unknown_session_is_a_not_found_error_and_exit_code_3()
    {
        var (exit, output, error) = await Contextc("no-such-session", "--recompile");
        Assert.Equal(3, exit);
        Assert.Empty(output);
        Assert.Equal("contextc: error: Session 'no-such-session' was not found.", error.TrimEnd());
    }

    [Theory]
    [InlineData("--recompile", "--set", "nope=1")]
    [InlineData("--recompile", "--budget", "0")]
    [InlineData("--budget", "100")]
    public async Task Bad_settings_are_an_invalid_request_and_exit_code_2(params string[] args)
    {
        var id = await _client.CreateSession();
        var (exit, _, error) = await Contextc([id, .. args]);
        Assert.Equal(2, exit);
        Assert.StartsWith("contextc: error: ", error);
    }
}
