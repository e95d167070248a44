using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Tokenization;
using ContextCompiler.Engine.Assets;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Sessions;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.Server.Tests;

/// <summary>The session store's rules below the HTTP layer: history fitting, replay grouping, budgets and retention.</summary>
public sealed class SessionStoreTests(SharedServer server) : IClassFixture<SharedServer>
{
    private static readonly ITokenizer Tokenizer = OfflineAssets.Default.Tokenizer();

    private static Message M(long sequence, string role, string content) => new($"m{sequence}", role, content, sequence, DateTimeOffset.UnixEpoch, null);

    [Fact]
    public void History_counts_the_separators_and_never_exceeds_its_budget()
    {
        var messages = Enumerable.Range(1, 20).Select(i => M(i, i % 2 == 1 ? "user" : "assistant", $"message number {i} about the WAL file")).ToList();
        for (int budget = 1; budget <= 200; budget += 7)
        {
            var window = HistoryBuilder.Build(messages, budget, Tokenizer);
            Assert.True(window.TokenCount <= budget);
            Assert.Equal(Tokenizer.CountTokens(window.Text), window.TokenCount);
            Assert.Equal(string.Join("\n\n", window.Messages.Select(HistoryBuilder.Render)), window.Text);
            if (window.Messages.Count > 0)
            {
                Assert.Equal(messages[^1], window.Messages[^1]);
            }
        }
    }

    [Fact]
    public void History_by_default_stops_at_the_first_message_that_does_not_fit()
    {
        var messages = new[] { M(1, "user", "short"), M(2, "assistant", string.Join(' ', Enumerable.Repeat("long", 200))), M(3, "user", "newest") };
        var window = HistoryBuilder.Build(messages, 20, Tokenizer);
        Assert.Equal(["m3"], window.Messages.Select(m => m.Id));
    }

    [Fact]
    public void History_with_skip_oversized_keeps_older_messages_past_one_that_does_not_fit()
    {
        var messages = new[] { M(1, "user", "short"), M(2, "assistant", string.Join(' ', Enumerable.Repeat("long", 200))), M(3, "user", "newest") };
        var window = HistoryBuilder.Build(messages, 20, Tokenizer, skipOversized: true);
        Assert.Equal(["m1", "m3"], window.Messages.Select(m => m.Id));
        Assert.Equal("User: short\n\nUser: newest", window.Text);
    }

    [Fact]
    public void Replay_pairs_each_user_message_with_the_next_assistant_message()
    {
        var messages = new[] { M(1, "assistant", "welcome"), M(2, "user", "q1"), M(3, "assistant", "a1"), M(4, "user", "q2"), M(5, "tool", "t"), M(6, "assistant", "a2"), M(7, "user", "q3") };
        var sets = new Dictionary<string, RawJson> { ["m2"] = new("{}"), ["m4"] = new("[]"), ["m7"] = new("1") };
        var turns = ReplayBuilder.Build(messages, sets);
        Assert.Equal(4, turns.Count);
        Assert.Null(turns[0].UserMessage);
        Assert.Equal("welcome", turns[0].AssistantMessage?.Content);
        Assert.Equal(("q1", "a1", "{}"), (turns[1].UserMessage?.Content, turns[1].AssistantMessage?.Content, turns[1].WorkingSet?.Json));
        Assert.Equal("a2", turns[2].AssistantMessage?.Content);
        Assert.Equal(["t"], turns[2].ExtraMessages.Select(m => m.Content));
        Assert.Null(turns[3].AssistantMessage);
        Assert.Equal("1", turns[3].WorkingSet?.Json);
    }

    [Theory]
    [InlineData(1000, 0.75, 750, 250)]
    [InlineData(10, 0.5, 5, 5)]
    [InlineData(1, 0.75, 1, 0)]
    public void A_total_budget_is_split_and_never_exceeded(int total, double share, int context, int history)
    {
        var resolved = new BudgetResolver(new SessionStoreOptions()).Resolve(new SessionBudgets(TotalBudget: total, ContextShare: share), null);
        Assert.Equal((context, history), (resolved.Context, resolved.History));
    }

    [Fact]
    public void Retention_deletes_only_sessions_idle_longer_than_the_limit()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow.AddDays(-40));
        using var engine = ServerFactory.Engine(server.Factory.DatabasePath, new SessionStoreOptions { RetentionDays = 30 }, clock);
        var store = engine.GetRequiredService<SessionStore>();
        var old = store.Create("retention", new NewSession("old-user"));
        clock.Now = DateTimeOffset.UtcNow;
        var fresh = store.Create("retention", new NewSession("fresh-user"));

        Assert.True(store.PurgeIdle() >= 1);
        Assert.Throws<SessionNotFoundException>(() => store.Get("retention", old.Id));
        Assert.Equal(fresh.Id, store.Get("retention", fresh.Id).Id);
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
