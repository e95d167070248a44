using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ContextCompiler.Core.Embedding;
using ContextCompiler.Engine.Embedding;
using ContextCompiler.Engine.Sessions;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.Server.Tests;

public sealed class TurnTests(SharedServer server) : IClassFixture<SharedServer>
{
    private readonly HttpClient _client = server.Factory.Client();

    [Fact]
    public async Task A_turn_returns_the_stored_message_its_working_set_and_the_history()
    {
        var id = await _client.CreateSession();
        var first = await _client.Turn(id, "How do I enable write-ahead logging?", new { contextBudget = 300, historyBudget = 100 });
        Assert.Equal(1, first.GetProperty("userMessage").GetProperty("sequence").GetInt64());
        Assert.Equal("user", first.GetProperty("userMessage").GetProperty("role").GetString());
        Assert.Equal("How do I enable write-ahead logging?", first.GetProperty("workingSet").GetProperty("query").GetString());
        Assert.InRange(first.GetProperty("workingSet").GetProperty("tokenCount").GetInt32(), 1, 300);
        Assert.Equal(0, first.GetProperty("history").GetProperty("tokenCount").GetInt32());

        await _client.Say(id, "assistant", "Run PRAGMA journal_mode=WAL.");
        var second = await _client.Turn(id, "Is it persistent?", new { contextBudget = 300, historyBudget = 100 });
        Assert.Equal(3, second.GetProperty("userMessage").GetProperty("sequence").GetInt64());
        var history = second.GetProperty("history");
        Assert.Equal("User: How do I enable write-ahead logging?\n\nAssistant: Run PRAGMA journal_mode=WAL.", history.GetProperty("text").GetString());
        Assert.Equal(2, history.GetProperty("messages").GetArrayLength());
    }

    [Fact]
    public async Task A_follow_up_retrieves_with_the_conversation_and_cites_wal()
    {
        var id = await _client.CreateSession();
        await _client.Turn(id, "How do I enable write-ahead logging?", new { contextBudget = 400 });
        var followUp = await _client.Turn(id, "And how do I turn it off again?", new { contextBudget = 400 });
        var set = followUp.GetProperty("workingSet");
        Assert.Equal("And how do I turn it off again?", set.GetProperty("retrievalQuery").GetString());
        Assert.Contains("write-ahead logging", set.GetProperty("retrievalContext").GetString());
        Assert.Contains(set.GetProperty("citations").EnumerateArray(), c => c.GetProperty("path").GetString() == "wal.md");
    }

    [Fact]
    public async Task A_follow_up_whose_subject_is_named_only_in_the_assistant_reply_retrieves_with_it()
    {
        var id = await _client.CreateSession();
        await _client.Turn(id, "How do I make the journal write-ahead?", new { contextBudget = 400 });
        await _client.Say(id, "assistant", "Run PRAGMA journal_mode=WAL once; the setting is stored in the database file.");
        var followUp = await _client.Turn(id, "Can I undo that later?", new { contextBudget = 400 });
        var set = followUp.GetProperty("workingSet");
        Assert.Contains("journal_mode=WAL", set.GetProperty("retrievalContext").GetString());
        Assert.Contains(set.GetProperty("citations").EnumerateArray(), c => c.GetProperty("path").GetString() is "wal.md" or "pragma.md");
    }

    [Fact]
    public async Task A_follow_up_runs_the_model_for_its_own_message_only_the_conversation_comes_from_each_message_s_remembered_vector()
    {
        var services = server.Factory.Services;
        var cache = Assert.IsType<MemoryEmbeddingCache>(services.GetRequiredService<IndexEmbedder>().Queries);
        var warmer = services.GetRequiredService<ContextVectorWarmer>();
        string nonce = Guid.NewGuid().ToString("N");
        var id = await _client.CreateSession();
        string first = $"How do I make the journal write-ahead? ({nonce})";
        string reply = $"Run PRAGMA journal_mode=WAL once; the setting is stored in the database file ({nonce}).";
        await _client.Turn(id, first, new { contextBudget = 400 });
        long warmed = warmer.Warmed;
        await _client.Say(id, "assistant", reply);
        // The reply is embedded when it is stored, in the background, not by the next turn.
        await warmer.DrainAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(warmed + 1, warmer.Warmed);

        long misses = cache.Misses;
        var followUp = await _client.Turn(id, $"Can I undo that later? ({nonce})", new { contextBudget = 400 });

        Assert.Equal(misses + 1, cache.Misses);
        var set = followUp.GetProperty("workingSet");
        Assert.Equal([first, reply], set.GetProperty("retrievalContextMessages").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal("messages", set.GetProperty("manifest").GetProperty("config").GetProperty("contextVectors").GetString());
        Assert.Contains(set.GetProperty("citations").EnumerateArray(), c => c.GetProperty("path").GetString() is "wal.md" or "pragma.md");
    }

    [Fact]
    public async Task An_assistant_reply_is_checked_against_the_working_set_of_its_turn_and_replays_with_the_check()
    {
        var id = await _client.CreateSession();
        var turn = await _client.Turn(id, "How do I enable write-ahead logging?", new { contextBudget = 600 });
        int cited = turn.GetProperty("workingSet").GetProperty("citations").GetArrayLength();
        Assert.True(cited >= 1);
        var reply = await _client.PostAsJsonAsync($"/v1/sessions/{id}/messages",
            new { role = "assistant", content = "Run PRAGMA journal_mode=WAL [1]. It persists across connections [42]. Readers do not block writers." });
        var check = (await reply.Json()).GetProperty("citationCheck");
        Assert.Equal([1], check.GetProperty("used").EnumerateArray().Select(n => n.GetInt32()));
        Assert.Equal([42], check.GetProperty("unknown").EnumerateArray().Select(n => n.GetInt32()));
        Assert.Equal(cited - 1, check.GetProperty("unused").GetArrayLength());
        Assert.Equal(3, check.GetProperty("sentences").GetInt32());
        Assert.Equal(2, check.GetProperty("sentencesWithMarker").GetInt32());

        var replay = await (await _client.GetAsync($"/v1/sessions/{id}/replay")).Json();
        var stored = replay.GetProperty("turns")[0].GetProperty("assistantMessage").GetProperty("citationCheck");
        Assert.Equal([42], stored.GetProperty("unknown").EnumerateArray().Select(n => n.GetInt32()));
    }

    [Fact]
    public async Task A_system_message_or_a_reply_before_any_turn_has_no_citation_check()
    {
        var id = await _client.CreateSession();
        var early = await (await _client.PostAsJsonAsync($"/v1/sessions/{id}/messages", new { role = "assistant", content = "Hello [1]." })).Json();
        Assert.False(early.TryGetProperty("citationCheck", out _));
        await _client.Turn(id, "What is WAL?");
        var system = await (await _client.PostAsJsonAsync($"/v1/sessions/{id}/messages", new { role = "system", content = "Be brief [1]." })).Json();
        Assert.False(system.TryGetProperty("citationCheck", out _));
    }

    [Fact]
    public async Task Health_reports_the_model_and_that_every_span_has_its_vector()
    {
        var health = await (await _client.GetAsync("/health")).Json();
        Assert.Equal("all-MiniLM-L6-v2", health.GetProperty("embeddingModel").GetString());
        var vectors = health.GetProperty("vectors");
        Assert.True(vectors.GetProperty("total").GetInt32() > 0);
        Assert.Equal(vectors.GetProperty("total").GetInt32(), vectors.GetProperty("done").GetInt32());
        Assert.True(vectors.GetProperty("complete").GetBoolean());
    }

    [Theory]
    [InlineData(200)]
    [InlineData(600)]
    [InlineData(1500)]
    public async Task Context_and_history_tokens_never_exceed_the_total_budget(int total)
    {
        var id = await _client.CreateSession();
        for (int i = 0; i < 3; i++)
        {
            var turn = await _client.Turn(id, $"Question {i}: how does a checkpoint move WAL content into the database?", new { totalBudget = total });
            int context = turn.GetProperty("contextTokens").GetInt32();
            int history = turn.GetProperty("historyTokens").GetInt32();
            Assert.Equal(context + history, turn.GetProperty("totalTokens").GetInt32());
            Assert.True(context + history <= total, $"{context} + {history} > {total}");
            Assert.True(turn.GetProperty("contextBudget").GetInt32() + turn.GetProperty("historyBudget").GetInt32() <= total);
            await _client.Say(id, "assistant", new string('w', 50) + " checkpoint answer " + i);
        }
    }

    [Fact]
    public async Task With_a_total_budget_the_history_takes_what_it_needs_and_the_working_set_gets_the_rest()
    {
        var id = await _client.CreateSession();
        await _client.Turn(id, "How do I enable write-ahead logging?", new { totalBudget = 2000 });
        await _client.Say(id, "assistant", "Run PRAGMA journal_mode=WAL.");
        var turn = await _client.Turn(id, "Does it stay on?", new { totalBudget = 2000 });
        int history = turn.GetProperty("historyTokens").GetInt32();
        Assert.InRange(history, 1, 499); // far below its share of 500
        Assert.Equal(history, turn.GetProperty("historyBudget").GetInt32());
        Assert.Equal(2000 - history, turn.GetProperty("contextBudget").GetInt32());
        Assert.True(turn.GetProperty("contextTokens").GetInt32() > 1500, "the working set should use what the history left");
        Assert.True(turn.GetProperty("totalTokens").GetInt32() <= 2000);
    }

    [Fact]
    public async Task A_turn_counts_both_budgets_in_the_models_tokens()
    {
        var id = await _client.CreateSession();
        await _client.Turn(id, "How do I enable write-ahead logging?", new { contextBudget = 300, historyBudget = 100, tokenizer = "gpt-4" });
        await _client.Say(id, "assistant", "Run PRAGMA journal_mode=WAL.");
        var turn = await _client.Turn(id, "Does it stay on?", new { contextBudget = 300, historyBudget = 100, tokenizer = "gpt-4" });
        var cl100k = ContextCompiler.Engine.Assets.OfflineAssets.Default.Tokenizer("cl100k_base");
        var set = turn.GetProperty("workingSet");
        Assert.Equal("cl100k_base", set.GetProperty("manifest").GetProperty("tokenizer").GetString());
        Assert.Equal(set.GetProperty("tokenCount").GetInt32(), cl100k.CountTokens(set.GetProperty("text").GetString()));
        var history = turn.GetProperty("history");
        Assert.Equal(history.GetProperty("tokenCount").GetInt32(), cl100k.CountTokens(history.GetProperty("text").GetString()));
    }

    [Fact]
    public async Task History_keeps_the_newest_whole_messages_that_fit()
    {
        var id = await _client.CreateSession();
        await _client.Turn(id, "What is UPSERT?");
        await _client.Say(id, "assistant", "An INSERT with an ON CONFLICT clause.");
        await _client.Say(id, "system", "Be brief.");
        await _client.Turn(id, "Show an example.");

        var all = await (await _client.GetAsync($"/v1/sessions/{id}/history?maxTokens=1000")).Json();
        Assert.Equal("User: What is UPSERT?\n\nAssistant: An INSERT with an ON CONFLICT clause.\n\nSystem: Be brief.\n\nUser: Show an example.", all.GetProperty("text").GetString());

        var small = await (await _client.GetAsync($"/v1/sessions/{id}/history?maxTokens=12")).Json();
        Assert.InRange(small.GetProperty("tokenCount").GetInt32(), 1, 12);
        Assert.EndsWith("User: Show an example.", small.GetProperty("text").GetString());
        Assert.True(small.GetProperty("messages").GetArrayLength() < 4);
    }

    [Fact]
    public async Task Replay_groups_turns_and_keeps_every_message()
    {
        var id = await _client.CreateSession();
        await _client.Say(id, "system", "You answer SQLite questions.");
        await _client.Turn(id, "What is WAL?");
        await _client.Say(id, "assistant", "Write-ahead logging.");
        await _client.Say(id, "assistant", "It is a journal mode.");
        await _client.Say(id, "tool", "{\"lookup\":\"wal.md\"}");
        await _client.Turn(id, "How do I enable it?");

        var replay = await (await _client.GetAsync($"/v1/sessions/{id}/replay")).Json();
        Assert.Equal(6, replay.GetProperty("session").GetProperty("messageCount").GetInt32());
        var turns = replay.GetProperty("turns").EnumerateArray().ToList();
        Assert.Equal(3, turns.Count);

        Assert.Equal(JsonValueKind.Null, turns[0].GetProperty("userMessage").ValueKind);
        Assert.Equal("system", turns[0].GetProperty("extraMessages")[0].GetProperty("role").GetString());

        Assert.Equal("What is WAL?", turns[1].GetProperty("userMessage").GetProperty("content").GetString());
        Assert.Equal("What is WAL?", turns[1].GetProperty("workingSet").GetProperty("query").GetString());
        Assert.Equal("Write-ahead logging.", turns[1].GetProperty("assistantMessage").GetProperty("content").GetString());
        Assert.Equal(new[] { "assistant", "tool" }, turns[1].GetProperty("extraMessages").EnumerateArray().Select(m => m.GetProperty("role").GetString()!).ToArray());

        Assert.Equal("How do I enable it?", turns[2].GetProperty("userMessage").GetProperty("content").GetString());
        Assert.Equal(JsonValueKind.Null, turns[2].GetProperty("assistantMessage").ValueKind);
        Assert.Equal([1L, 2, 3, 4, 5, 6], AllSequences(turns));
    }

    [Fact]
    public async Task Replay_returns_each_working_set_byte_for_byte_as_the_turn_did()
    {
        var id = await _client.CreateSession();
        var raw = new List<string>();
        foreach (var q in new[] { "How do I enable write-ahead logging?", "What does <busy> & \"locked\" mean?" })
        {
            var response = await _client.PostAsJsonAsync($"/v1/sessions/{id}/turns", new { message = q, explain = true });
            raw.Add((await response.Json()).GetProperty("workingSet").GetRawText());
        }

        var replay = await (await _client.GetAsync($"/v1/sessions/{id}/replay")).Json();
        Assert.Equal(raw, replay.GetProperty("turns").EnumerateArray().Select(t => t.GetProperty("workingSet").GetRawText()).ToList());
    }

    [Fact]
    public async Task Thirty_two_parallel_turns_on_one_session_are_each_stored_once_with_gapless_sequences()
    {
        var id = await _client.CreateSession();
        var messages = Enumerable.Range(1, 32).Select(i => $"parallel question {i} about transactions").ToList();
        var turns = await Task.WhenAll(messages.Select(m => _client.Turn(id, m, new { contextBudget = 150, historyBudget = 50 })));

        Assert.Equal(Enumerable.Range(1, 32).Select(i => (long)i), turns.Select(t => t.GetProperty("userMessage").GetProperty("sequence").GetInt64()).Order());
        var replay = await (await _client.GetAsync($"/v1/sessions/{id}/replay")).Json();
        var stored = replay.GetProperty("turns").EnumerateArray().Select(t => t.GetProperty("userMessage").GetProperty("content").GetString()).ToList();
        Assert.Equal(messages.Order(), stored.Order());
        Assert.Equal(Enumerable.Range(1, 32).Select(i => (long)i), AllSequences(replay.GetProperty("turns").EnumerateArray().ToList()));
        Assert.Equal(32, replay.GetProperty("session").GetProperty("messageCount").GetInt32());
    }

    [Fact]
    public async Task Parallel_turns_on_many_sessions_keep_each_session_gapless()
    {
        var ids = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => _client.CreateSession()));
        await Task.WhenAll(ids.SelectMany(id => Enumerable.Range(1, 4).Select(i => _client.Turn(id, $"what is pragma number {i}?", new { contextBudget = 100 }))));
        foreach (var id in ids)
        {
            var replay = await (await _client.GetAsync($"/v1/sessions/{id}/replay")).Json();
            Assert.Equal([1L, 2, 3, 4], AllSequences(replay.GetProperty("turns").EnumerateArray().ToList()));
        }
    }

    private static List<long> AllSequences(List<JsonElement> turns)
    {
        var sequences = new List<long>();
        foreach (var turn in turns)
        {
            foreach (var name in new[] { "userMessage", "assistantMessage" })
            {
                if (turn.TryGetProperty(name, out var m) && m.ValueKind == JsonValueKind.Object)
                {
                    sequences.Add(m.GetProperty("sequence").GetInt64());
                }
            }

            sequences.AddRange(turn.GetProperty("extraMessages").EnumerateArray().Select(m => m.GetProperty("sequence").GetInt64()));
        }

        sequences.Sort();
        return sequences;
    }
}

public sealed class DurabilityTests
{
    [Fact]
    public async Task A_new_host_on_the_same_file_replays_byte_identically()
    {
        var folder = ServerFactory.NewFolder();
        string id, before;
        using (var first = new ServerFactory(folder))
        {
            var client = first.Client();
            id = await client.CreateSession(new { userId = "durable" });
            await client.Turn(id, "How do I enable write-ahead logging?");
            await client.Say(id, "assistant", "PRAGMA journal_mode=WAL;");
            await client.Turn(id, "And how do I turn it off again?");
            before = await client.GetStringAsync($"/v1/sessions/{id}/replay");
        }

        var second = new ServerFactory(folder);
        try
        {
            var after = await second.Client().GetStringAsync($"/v1/sessions/{id}/replay");
            Assert.Equal(before, after);
            Assert.Equal(HttpStatusCode.Unauthorized, (await second.Client(ServerFactory.BetaKey + "x").GetAsync($"/v1/sessions/{id}")).StatusCode);
        }
        finally
        {
            second.Dispose();
            second.DeleteFolder();
        }
    }
}
