using System.Text.Json;
using ContextCompiler.Engine.Sessions;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.Engine.Tests.Sessions;

/// <summary>The engine as the composition root wires it for the CLI and the evaluation runner, over a real index file.</summary>
public sealed class TurnServiceTests : IDisposable
{
    private readonly TempIndex _index = new();

    [Fact]
    public async Task The_composition_root_takes_a_turn_stores_a_cited_reply_and_replays_the_triple()
    {
        await Ingest();
        using var engine = Engine(new SessionStoreOptions());
        var sessions = engine.GetRequiredService<SessionStore>();
        var turns = engine.GetRequiredService<TurnService>();

        var session = sessions.Create("t", new NewSession("u"));
        var turn = await turns.TakeTurnAsync("t", session.Id, new TurnRequest("How do I turn on write-ahead logging?", new SessionBudgets(200, 100)));
        using var workingSet = JsonDocument.Parse(turn.WorkingSet.Json);
        int cited = workingSet.RootElement.GetProperty("citations").GetArrayLength();
        Assert.True(cited > 0);
        Assert.Contains("wal.md", turn.WorkingSet.Json, StringComparison.Ordinal);
        Assert.InRange(turn.ContextTokens, 1, 200);

        var reply = await sessions.AddMessageAsync("t", session.Id, MessageRoles.Assistant, "Set the journal mode [1]. Also [42].", null);
        Assert.Equal([1], reply.CitationCheck!.Used);
        Assert.Equal([42], reply.CitationCheck.Unknown);

        var replay = sessions.Replay("t", session.Id).Turns.Single();
        Assert.Equal(turn.WorkingSet.Json, replay.WorkingSet!.Json);
        Assert.Equal(reply.Id, replay.AssistantMessage!.Id);
    }

    [Fact]
    public async Task A_split_total_gives_the_working_set_what_the_history_leaves()
    {
        await Ingest();
        using var engine = Engine(new SessionStoreOptions());
        var sessions = engine.GetRequiredService<SessionStore>();
        var turns = engine.GetRequiredService<TurnService>();
        var session = sessions.Create("t", new NewSession());
        await turns.TakeTurnAsync("t", session.Id, new TurnRequest("What is WAL?", new SessionBudgets(TotalBudget: 400)));
        await sessions.AddMessageAsync("t", session.Id, MessageRoles.Assistant, "Write-ahead logging.", null);

        var turn = await turns.TakeTurnAsync("t", session.Id, new TurnRequest("Does it stay on?", new SessionBudgets(TotalBudget: 400)));

        Assert.InRange(turn.History.TokenCount, 1, 99);
        Assert.Equal(turn.History.TokenCount, turn.HistoryBudget);
        Assert.Equal(400 - turn.History.TokenCount, turn.ContextBudget);
    }

    [Fact]
    public async Task A_failed_compile_stores_nothing()
    {
        await Ingest();
        using var engine = Engine(new SessionStoreOptions());
        var sessions = engine.GetRequiredService<SessionStore>();
        var session = sessions.Create("t", new NewSession());

        await Assert.ThrowsAsync<ArgumentException>(() =>
            engine.GetRequiredService<TurnService>().TakeTurnAsync("t", session.Id, new TurnRequest("wal", Tokenizer: "no-such-model")));

        Assert.Empty(sessions.Messages("t", session.Id));
    }

    [Theory]
    [InlineData(null, null, 1000, 750, 250, 1000)]
    [InlineData(300, null, 1000, 300, 700, null)]
    [InlineData(null, 100, 1000, 900, 100, null)]
    [InlineData(200, 100, null, 200, 100, null)]
    public void Budgets_resolve_from_parts_or_a_split_total(int? context, int? history, int? total, int expectContext, int expectHistory, int? expectSplit)
    {
        var budgets = new BudgetResolver(new SessionStoreOptions()).Resolve(new SessionBudgets(context, history, total), null);

        Assert.Equal(new TurnBudgets(expectContext, expectHistory, expectSplit), budgets);
        // Only a split total hands the history's leftover to the working set.
        var after = budgets.AfterHistory(40);
        Assert.Equal(expectSplit is null ? budgets : new TurnBudgets(960, 40, 1000), after);
    }

    [Fact]
    public void Session_defaults_apply_only_when_the_request_names_no_budget()
    {
        var resolver = new BudgetResolver(new SessionStoreOptions());
        var defaults = new SessionBudgets(ContextBudget: 111, HistoryBudget: 22);

        Assert.Equal(new TurnBudgets(111, 22), resolver.Resolve(null, defaults));
        Assert.Equal(new TurnBudgets(300, 500), resolver.Resolve(new SessionBudgets(ContextBudget: 300), defaults));
        Assert.Throws<ArgumentException>(() => resolver.Resolve(new SessionBudgets(ContextBudget: 900, HistoryBudget: 200, TotalBudget: 1000), null));
    }

    [Fact]
    public async Task Another_tenants_session_id_reads_nothing_through_the_repository()
    {
        await Ingest();
        using var engine = Engine(new SessionStoreOptions());
        var sessions = engine.GetRequiredService<SessionStore>();
        var turns = engine.GetRequiredService<TurnService>();
        var repository = engine.GetRequiredService<ISessionRepository>();
        var session = sessions.Create("t", new NewSession());
        var idle = sessions.Create("t", new NewSession());
        await turns.TakeTurnAsync("t", session.Id, new TurnRequest("What is WAL?", new SessionBudgets(200, 100)));
        await sessions.AddMessageAsync("t", session.Id, MessageRoles.Assistant, "Write-ahead logging [1].", null);
        await turns.TakeTurnAsync("t", session.Id, new TurnRequest("Does it stay on?", new SessionBudgets(200, 100)));

        Assert.Equal(2, repository.WorkingSets("t", session.Id).Count);
        Assert.Equal(2, repository.TurnBudgets("t", session.Id).Count);
        Assert.NotNull(repository.LatestWorkingSet("t", session.Id));
        var totals = repository.TurnTotals("t", [session.Id, idle.Id, session.Id]);
        Assert.Equal([session.Id], totals.Keys);
        Assert.Equal(2, totals[session.Id].Turns);
        Assert.True(totals[session.Id].Tokens > 0);

        Assert.Empty(repository.WorkingSets("other", session.Id));
        Assert.Empty(repository.TurnBudgets("other", session.Id));
        Assert.Null(repository.LatestWorkingSet("other", session.Id));
        Assert.Empty(repository.TurnTotals("other", [session.Id, idle.Id]));
    }

    [Fact]
    public async Task An_append_after_a_history_that_another_writer_extended_is_a_conflict_and_writes_nothing()
    {
        await Ingest();
        using var engine = Engine(new SessionStoreOptions());
        var sessions = engine.GetRequiredService<SessionStore>();
        var repository = engine.GetRequiredService<ISessionRepository>();
        var session = sessions.Create("t", new NewSession());
        await engine.GetRequiredService<TurnService>().TakeTurnAsync("t", session.Id, new TurnRequest("What is WAL?", new SessionBudgets(200, 100)));

        // This writer read the session when it was empty; a turn has been stored since.
        var stale = Assert.Throws<SessionConflictException>(() =>
            repository.Append("t", session.Id, new MessageDraft(MessageRoles.User, "late", null), afterSequence: 0));
        Assert.Contains("now at 1", stale.Message, StringComparison.Ordinal);
        Assert.Single(repository.Messages("t", session.Id));

        var current = repository.Append("t", session.Id, new MessageDraft(MessageRoles.User, "on time", null), afterSequence: 1);
        Assert.Equal(2, current.Sequence);
    }

    [Fact]
    public async Task Two_processes_taking_turns_on_one_session_store_each_after_the_history_it_read()
    {
        await Ingest();
        // Two engines over one file: two processes, each with its own in-process session lock.
        using var first = Engine(new SessionStoreOptions());
        using var second = Engine(new SessionStoreOptions());
        var session = first.GetRequiredService<SessionStore>().Create("t", new NewSession());
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            var turns = (i % 2 == 0 ? first : second).GetRequiredService<TurnService>();
            try
            {
                var turn = await turns.TakeTurnAsync("t", session.Id, new TurnRequest($"Question {i} about checkpoints?", new SessionBudgets(200, 2000)));
                return (Stored: true, Sequence: turn.UserMessage.Sequence, History: turn.History.Messages.Count);
            }
            catch (SessionConflictException)
            {
                return (Stored: false, Sequence: 0L, History: 0);
            }
        })));

        var stored = outcomes.Where(o => o.Stored).ToList();
        var messages = first.GetRequiredService<ISessionRepository>().Messages("t", session.Id);
        // Refused turns wrote nothing; the stored ones are numbered without gaps, each right after the history it was given.
        Assert.Equal(stored.Count, messages.Count);
        Assert.Equal(Enumerable.Range(1, messages.Count).Select(n => (long)n), messages.Select(m => m.Sequence));
        Assert.All(stored, o => Assert.Equal(o.Sequence - 1, o.History));
    }

    public void Dispose() => _index.Dispose();

    private ServiceProvider Engine(SessionStoreOptions sessions) =>
        new ServiceCollection()
            .AddSingleton(TempIndex.Embedders)
            .AddContextCompiler(new ContextCompilerOptions { DatabasePath = _index.DatabasePath, Sessions = sessions })
            .BuildServiceProvider();

    private async Task Ingest()
    {
        var corpus = ContextCompiler.Engine.Assets.RepositoryLayout.DefaultCorpus() ?? throw new InvalidOperationException("corpora/sqlite-docs is missing");
        foreach (var file in new[] { "wal.md", "pragma.md", "lang_transaction.md" })
        {
            _index.Write(file, File.ReadAllText(Path.Combine(corpus, file)));
        }

        await _index.IngestAsync();
    }
}
