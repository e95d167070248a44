using System.Text.Json;
using ContextCompiler.Core.Tokenization;
using ContextCompiler.Engine.Sessions;
using ContextCompiler.Engine.Sessions.Compacting;
using ContextCompiler.Tests.Shared;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.Engine.Tests.Sessions;

/// <summary>
/// Compaction through the composition root over a real index file and tokenizer, with a scripted chat model where a
/// model is needed.
/// </summary>
public sealed class CompactionTests : IDisposable
{
    private const string Tenant = "t";
    private readonly TempIndex _index = new();

    // Ten notes of the same shape, so that a budget fitting the last k of them is easy to state exactly.
    private static readonly string[] Notes = Enumerable.Range(1, 10).Select(i => $"Note {i:00}: the setting number {i:00} was chosen and kept.").ToArray();

    [Theory]
    [InlineData(3, 2, false)] // below the threshold
    [InlineData(3, 3, true)] // at it
    [InlineData(3, 4, true)] // above it
    [InlineData(1, 0, false)]
    [InlineData(1, 1, true)]
    public async Task A_turn_compacts_when_the_evicted_messages_reach_the_threshold(int threshold, int evicted, bool compacts)
    {
        await Ingest();
        using var engine = Engine();
        var (sessions, turns, tokenizer) = Parts(engine);
        const int fit = 3;
        // Half the budget for the summary: room for one line of it beside a window of three notes.
        var session = sessions.Create(Tenant, new NewSession(Compaction: new CompactionSettings(CompactionModes.Auto, threshold, 0.5)));
        foreach (var note in Notes.Take(fit + evicted))
        {
            await sessions.AddMessageAsync(Tenant, session.Id, MessageRoles.System, note, null);
        }

        // Exactly the last three notes fit: a fourth would need more tokens.
        int budget = tokenizer.CountTokens(string.Join(HistoryBuilder.Separator, Notes.Skip(evicted).Take(fit).Select(n => "System: " + n)));
        var before = sessions.Usage(Tenant, session.Id, budget);
        Assert.Equal(evicted, before.EvictedMessages);

        var turn = await turns.TakeTurnAsync(Tenant, session.Id, new TurnRequest("How do I turn on write-ahead logging?", new SessionBudgets(200, budget)));

        Assert.Equal(compacts, turn.Compaction is not null);
        Assert.Equal(compacts ? 1 : 0, sessions.Compactions(Tenant, session.Id).Count);
        Assert.Equal(fit + evicted + 1, sessions.Messages(Tenant, session.Id).Count);
        if (compacts)
        {
            Assert.Equal(CompactionTriggers.Auto, turn.Compaction!.Trigger);
            Assert.Equal(1, turn.Compaction.FromSequence);
            Assert.True(turn.Compaction.ThroughSequence >= evicted);
            Assert.Equal(ExactlyOne(turn.History.Summary).Id, turn.Compaction.Id);
        }
    }

    [Fact]
    public async Task Compaction_off_on_the_turn_overrides_the_session()
    {
        await Ingest();
        using var engine = Engine();
        var (sessions, turns, _) = Parts(engine);
        var session = sessions.Create(Tenant, new NewSession(Compaction: new CompactionSettings(CompactionModes.Auto, 1, 0.5)));
        foreach (var note in Notes)
        {
            await sessions.AddMessageAsync(Tenant, session.Id, MessageRoles.System, note, null);
        }

        var off = await turns.TakeTurnAsync(Tenant, session.Id, new TurnRequest("wal?", new SessionBudgets(200, 40), Compaction: new CompactionSettings(CompactionModes.Off)));
        Assert.Null(off.Compaction);
        Assert.True(off.Usage.EvictedMessages > 0);

        var auto = await turns.TakeTurnAsync(Tenant, session.Id, new TurnRequest("wal again?", new SessionBudgets(200, 40)));
        Assert.NotNull(auto.Compaction);
        Assert.Equal(0, auto.Usage.EvictedMessages);
    }

    [Fact]
    public async Task Three_compactions_each_fold_the_previous_summary_and_only_the_newly_evicted_messages()
    {
        await Ingest();
        var model = new ScriptedChatClient((request, n) => $"- summary {n + 1}");
        using var engine = Engine(model);
        var (sessions, turns, _) = Parts(engine);
        var session = sessions.Create(Tenant, new NewSession(Compaction: new CompactionSettings(CompactionModes.Auto, 2, 0.3)));

        var made = new List<Compaction>();
        for (int i = 0; i < 9 && made.Count < 3; i++)
        {
            var turn = await turns.TakeTurnAsync(Tenant, session.Id, new TurnRequest($"Question {i}: how does the write-ahead log handle checkpoint number {i}?", new SessionBudgets(200, 60)));
            await sessions.AddMessageAsync(Tenant, session.Id, MessageRoles.Assistant, $"Answer {i}: a checkpoint copies pages back into the database file, step {i}.", null);
            if (turn.Compaction is { } c)
            {
                made.Add(c);
            }
        }

        Assert.Equal(3, made.Count);
        Assert.Equal(made, sessions.Compactions(Tenant, session.Id));
        Assert.Equal([1, 2, 3], made.Select(c => c.Number));
        Assert.Equal(1, made[0].FromSequence);
        for (int i = 1; i < 3; i++)
        {
            Assert.Equal(made[i - 1].ThroughSequence + 1, made[i].FromSequence);
        }

        Assert.All(made, c => Assert.Equal((ChatClientSummarizer.Name, "scripted-model", ChatClientSummarizer.PromptHash, (string?)null), (c.Summarizer, c.Model, c.PromptHash, c.FallbackReason)));
        Assert.Equal(["- summary 1", "- summary 2", "- summary 3"], made.Select(c => c.Summary));

        // Each request holds the previous summary and the messages folded now, and none folded before.
        var requests = model.Requests.Select(r => r.Last().Text).ToList();
        Assert.Equal(3, requests.Count);
        Assert.Contains("Current summary:\n(none)", requests[0], StringComparison.Ordinal);
        Assert.Contains("Current summary:\n- summary 1", requests[1], StringComparison.Ordinal);
        Assert.Contains("Current summary:\n- summary 2", requests[2], StringComparison.Ordinal);
        var messages = sessions.Messages(Tenant, session.Id);
        for (int i = 0; i < 3; i++)
        {
            foreach (var message in messages)
            {
                bool folded = message.Sequence >= made[i].FromSequence && message.Sequence <= made[i].ThroughSequence;
                Assert.Equal(folded, requests[i].Contains(HistoryBuilder.Render(message), StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public async Task A_model_failure_falls_back_to_the_extractive_summary_and_loses_nothing()
    {
        await Ingest();
        var model = new ScriptedChatClient(new HttpRequestException("502 Bad Gateway"));
        using var engine = Engine(model);
        var (sessions, turns, _) = Parts(engine);
        var session = sessions.Create(Tenant, new NewSession());
        await turns.TakeTurnAsync(Tenant, session.Id, new TurnRequest("How do I turn on write-ahead logging?", new SessionBudgets(200, 400)));
        await sessions.AddMessageAsync(Tenant, session.Id, MessageRoles.Assistant, "Run PRAGMA journal_mode=WAL [1]. It is remembered in the file.", null);
        foreach (var note in Notes)
        {
            await sessions.AddMessageAsync(Tenant, session.Id, MessageRoles.System, note, null);
        }

        var outcome = await engine.GetRequiredService<SessionCompactor>().CompactAsync(Tenant, session.Id, 200);

        Assert.True(outcome.Compacted);
        var compaction = outcome.Compaction!;
        Assert.Equal(ExtractiveSummarizer.Name, compaction.Summarizer);
        Assert.Null(compaction.Model);
        Assert.Contains("502 Bad Gateway", compaction.FallbackReason, StringComparison.Ordinal);
        Assert.Single(model.Requests);
        Assert.True(compaction.Summary.StartsWith("- User asked: How do I turn on write-ahead logging?\n- Assistant: Run PRAGMA journal_mode=WAL [1]. (", StringComparison.Ordinal), compaction.Summary);
        Assert.Contains("wal.md:", compaction.Summary, StringComparison.Ordinal);
        Assert.Equal(12, sessions.Messages(Tenant, session.Id).Count);
        Assert.Equal(CompactionTriggers.Manual, compaction.Trigger);
    }

    [Fact]
    public async Task A_retried_compaction_stores_nothing_new_and_answers_with_the_one_in_force()
    {
        await Ingest();
        using var engine = Engine();
        var (sessions, _, _) = Parts(engine);
        var compactor = engine.GetRequiredService<SessionCompactor>();
        var session = sessions.Create(Tenant, new NewSession());
        foreach (var note in Notes)
        {
            await sessions.AddMessageAsync(Tenant, session.Id, MessageRoles.System, note, null);
        }

        var first = await compactor.CompactAsync(Tenant, session.Id, 80);
        var retry = await compactor.CompactAsync(Tenant, session.Id, 80);

        Assert.True(first.Compacted);
        Assert.False(retry.Compacted);
        Assert.Equal(first.Compaction, retry.Compaction);
        Assert.Single(sessions.Compactions(Tenant, session.Id));
        Assert.Equal(first.Usage, retry.Usage);
        Assert.Equal(0, retry.Usage.EvictedMessages);
    }

    [Fact]
    public async Task Concurrent_turns_and_compactions_on_one_session_never_interleave()
    {
        await Ingest();
        var model = new ScriptedChatClient((_, n) => $"- summary {n + 1}", delay: TimeSpan.FromMilliseconds(30));
        using var engine = Engine(model);
        var (sessions, turns, tokenizer) = Parts(engine);
        var compactor = engine.GetRequiredService<SessionCompactor>();
        var session = sessions.Create(Tenant, new NewSession(DefaultBudgets: new SessionBudgets(200, 60), Compaction: new CompactionSettings(CompactionModes.Auto, 1)));
        foreach (var note in Notes.Take(4))
        {
            await sessions.AddMessageAsync(Tenant, session.Id, MessageRoles.System, note, null);
        }

        var work = Enumerable.Range(0, 6).Select(i => i % 2 == 0
            ? (Task)turns.TakeTurnAsync(Tenant, session.Id, new TurnRequest($"Turn {i}: how does checkpointing of the write-ahead log work in case {i}?"))
            : compactor.CompactAsync(Tenant, session.Id)).ToList();
        await Task.WhenAll(work);

        Assert.Equal(1, model.MostInFlight);
        var compactions = sessions.Compactions(Tenant, session.Id);
        Assert.NotEmpty(compactions);
        Assert.Equal(Enumerable.Range(1, compactions.Count), compactions.Select(c => c.Number));
        for (int i = 1; i < compactions.Count; i++)
        {
            Assert.Equal(compactions[i - 1].ThroughSequence + 1, compactions[i].FromSequence);
            Assert.True(compactions[i].AtSequence >= compactions[i - 1].AtSequence);
        }

        var messages = sessions.Messages(Tenant, session.Id);
        Assert.Equal(Enumerable.Range(1, 7).Select(i => (long)i), messages.Select(m => m.Sequence));
        var history = sessions.History(Tenant, session.Id);
        Assert.Equal(compactions[^1], history.Summary);
        Assert.Equal(tokenizer.CountTokens(history.Text), history.TokenCount);
    }

    [Fact]
    public async Task The_history_counts_summary_separator_and_messages_exactly_within_the_budget()
    {
        await Ingest();
        using var engine = Engine();
        var (sessions, turns, tokenizer) = Parts(engine);
        var session = sessions.Create(Tenant, new NewSession(Compaction: new CompactionSettings(CompactionModes.Auto, 1, 0.5)));
        foreach (var note in Notes)
        {
            await sessions.AddMessageAsync(Tenant, session.Id, MessageRoles.System, note, null);
        }

        var turn = await turns.TakeTurnAsync(Tenant, session.Id, new TurnRequest("How do I turn on write-ahead logging?", new SessionBudgets(200, 90)));

        var history = turn.History;
        var summary = ExactlyOne(history.Summary);
        string block = HistoryBuilder.RenderSummary(summary);
        Assert.StartsWith(block + HistoryBuilder.Separator, history.Text, StringComparison.Ordinal);
        Assert.Equal(block + HistoryBuilder.Separator + string.Join(HistoryBuilder.Separator, history.Messages.Select(HistoryBuilder.Render)), history.Text);
        Assert.All(history.Messages, m => Assert.True(m.Sequence > summary.ThroughSequence));
        Assert.Equal(tokenizer.CountTokens(history.Text), history.TokenCount);
        Assert.InRange(history.TokenCount, 1, 90);
        Assert.Equal(tokenizer.CountTokens(block), history.SummaryTokens);
        Assert.Equal(tokenizer.CountTokens(summary.Summary), summary.TokenCount);
        Assert.InRange(summary.TokenCount, 1, 45);

        var usage = turn.Usage;
        var stored = sessions.Messages(Tenant, session.Id);
        Assert.Equal(stored.Count, usage.Messages);
        Assert.Equal(stored.Sum(m => (long)tokenizer.CountTokens(HistoryBuilder.Render(m))), usage.MessageTokens);
        Assert.Equal((90, history.TokenCount, history.Messages.Count, history.SummaryTokens), (usage.HistoryBudget, usage.HistoryTokens, usage.HistoryMessages, usage.SummaryTokens));
        Assert.Equal(summary.ThroughSequence, usage.SummaryThroughSequence);
        Assert.Equal(Math.Round(history.TokenCount / 90.0, 4), usage.BudgetUsed);
        // GET /usage describes the same window: the latest turn's, rebuilt from the stored messages and compactions.
        // (What has left the window since is counted against the window the next turn would carry.)
        Assert.Equal(usage, sessions.Usage(Tenant, session.Id) with { EvictedMessages = usage.EvictedMessages, EvictedTokens = usage.EvictedTokens });
    }

    [Fact]
    public async Task Replay_shows_each_compaction_where_it_happened_and_recompile_uses_the_stored_summary_without_the_model()
    {
        await Ingest();
        var model = new ScriptedChatClient((_, n) => n == 0 ? "- The user enabled write-ahead logging (wal.md)." : throw new InvalidOperationException("The model must not be called again."));
        using var engine = Engine(model);
        var (sessions, turns, _) = Parts(engine);
        var session = sessions.Create(Tenant, new NewSession(Compaction: new CompactionSettings(CompactionModes.Auto, 1)));
        TurnResult? compacted = null;
        for (int i = 0; i < 6 && compacted is null; i++)
        {
            var turn = await turns.TakeTurnAsync(Tenant, session.Id, new TurnRequest($"Step {i}: how do checkpoints of the write-ahead log work?", new SessionBudgets(200, 60)));
            await sessions.AddMessageAsync(Tenant, session.Id, MessageRoles.Assistant, $"Step {i}: checkpoints copy the log back into the database.", null);
            compacted = turn.Compaction is null ? null : turn;
        }

        Assert.NotNull(compacted);
        var compaction = compacted.Compaction!;
        using (var stored = JsonDocument.Parse(compacted.WorkingSet.Json))
        {
            // The summary joined the turn's retrieval context, stored with its working set.
            Assert.Equal(compaction.Summary, stored.RootElement.GetProperty("retrievalContextMessages")[0].GetString());
        }

        var replay = sessions.Replay(Tenant, session.Id);
        var at = Assert.Single(replay.Turns, t => t.Compactions.Count > 0);
        Assert.Equal(compaction, Assert.Single(at.Compactions));
        Assert.Contains(compaction.AtSequence, new[] { at.UserMessage!.Sequence, at.AssistantMessage!.Sequence });
        Assert.Equal(compacted.UserMessage.Sequence - 1, compaction.AtSequence);
        Assert.Equal(1, replay.Usage!.Compactions);

        var report = await engine.GetRequiredService<SessionRecompiler>().RecompileAsync(Tenant, session.Id, new RecompileRequest());
        Assert.Single(model.Requests);
        Assert.All(report.Turns, t => Assert.True(t.Identical, $"turn {t.Sequence} changed"));
    }

    [Fact]
    public async Task Settings_are_checked_before_anything_is_stored()
    {
        await Ingest();
        using var engine = Engine();
        var (sessions, turns, _) = Parts(engine);
        Assert.Throws<ArgumentException>(() => sessions.Create(Tenant, new NewSession(Compaction: new CompactionSettings("sometimes"))));
        Assert.Throws<ArgumentException>(() => sessions.Create(Tenant, new NewSession(Compaction: new CompactionSettings(Threshold: 0))));
        Assert.Throws<ArgumentException>(() => sessions.Create(Tenant, new NewSession(Compaction: new CompactionSettings(SummaryShare: 1))));
        Assert.Equal(0, sessions.List(Tenant, new SessionQuery()).Total);

        var session = sessions.Create(Tenant, new NewSession(Compaction: new CompactionSettings(" OFF ")));
        Assert.Equal(CompactionModes.Off, sessions.Get(Tenant, session.Id).Compaction!.Mode);
        await Assert.ThrowsAsync<ArgumentException>(() => turns.TakeTurnAsync(Tenant, session.Id, new TurnRequest("wal", Compaction: new CompactionSettings(Threshold: -1))));
        Assert.Empty(sessions.Messages(Tenant, session.Id));
    }

    private static T ExactlyOne<T>(T? value) where T : class => Assert.IsType<T>(value);

    private static (SessionStore Sessions, TurnService Turns, ITokenizer Tokenizer) Parts(ServiceProvider engine) =>
        (engine.GetRequiredService<SessionStore>(), engine.GetRequiredService<TurnService>(), engine.GetRequiredService<ITokenizer>());

    private ServiceProvider Engine(IChatClient? model = null)
    {
        var services = new ServiceCollection().AddSingleton(TempIndex.Embedders);
        if (model is not null)
        {
            services.AddKeyedSingleton(ContextCompilerServiceCollectionExtensions.SummarizerKey, model);
        }

        return services.AddContextCompiler(new ContextCompilerOptions { DatabasePath = _index.DatabasePath }).BuildServiceProvider();
    }

    private async Task Ingest()
    {
        var corpus = ContextCompiler.Engine.Assets.RepositoryLayout.DefaultCorpus() ?? throw new InvalidOperationException("corpora/sqlite-docs is missing");
        foreach (var file in new[] { "wal.md", "pragma.md", "lang_transaction.md" })
        {
            _index.Write(file, File.ReadAllText(Path.Combine(corpus, file)));
        }

        await _index.IngestAsync();
    }

    public void Dispose() => _index.Dispose();
}
