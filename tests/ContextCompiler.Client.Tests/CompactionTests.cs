using ContextCompiler.Server.Tests;

namespace ContextCompiler.Client.Tests;

/// <summary>Compaction, usage and the summary in the history through the typed client against the real in-process server.</summary>
public sealed class CompactionTests(SharedServer server) : IClassFixture<SharedServer>
{
    private const int SmallHistory = 60;

    private readonly IContextCompilerClient _client = server.Client();

    // Short notes of one shape: a 60-token history holds only the last few, and a summary line of one fits its share.
    private static readonly string[] Notes = [.. Enumerable.Range(1, 8).Select(i => $"Note {i:00}: keep setting {i:00}.")];

    private async Task<Session> SessionWithNotes(CreateSessionRequest request)
    {
        var session = await _client.CreateSessionAsync(request);
        foreach (var note in Notes)
        {
            await _client.AddMessageAsync(session.Id, new AddMessageRequest(MessageRoles.System, note));
        }

        return session;
    }

    [Fact]
    public async Task A_turn_over_the_threshold_compacts_and_the_history_usage_list_and_replay_agree_on_it()
    {
        var session = await SessionWithNotes(new CreateSessionRequest(Compaction: CompactionModes.Auto, CompactionThreshold: 1, SummaryShare: 0.5));
        Assert.Equal(new CompactionSettings(CompactionModes.Auto, 1, 0.5), session.Compaction);

        var turn = await _client.TakeTurnAsync(session.Id, new TurnRequest("How do I enable write-ahead logging?", ContextBudget: 300, HistoryBudget: SmallHistory));

        var made = Assert.IsType<Compaction>(turn.Compaction);
        Assert.Equal(1, made.Number);
        Assert.Equal("auto", made.Trigger);
        Assert.Equal("extractive", made.Summarizer);
        Assert.Null(made.Model);
        Assert.Equal(1, made.FromSequence);
        Assert.InRange(made.ThroughSequence, 1, Notes.Length - 1);
        Assert.Contains("Note 01", made.Summary, StringComparison.Ordinal);
        Assert.Equal(made, turn.History.Summary);
        Assert.InRange(turn.History.SummaryTokens, made.TokenCount + 1, SmallHistory);
        // The window keeps only messages the summary does not cover, and its text starts with the summary block.
        Assert.All(turn.History.Messages, m => Assert.True(m.Sequence > made.ThroughSequence));
        string block = turn.History.SummaryBlock()!;
        Assert.StartsWith($"Summary of messages 1-{made.ThroughSequence} of this conversation:\n", block, StringComparison.Ordinal);
        Assert.EndsWith(made.Summary, block, StringComparison.Ordinal);
        Assert.StartsWith(block, turn.History.Text, StringComparison.Ordinal);

        Assert.Equal(1, turn.Usage.Compactions);
        Assert.Equal(Notes.Length + 1, turn.Usage.Messages);
        Assert.Equal(SmallHistory, turn.Usage.HistoryBudget);
        Assert.Equal(turn.History.SummaryTokens, turn.Usage.SummaryTokens);
        Assert.Equal(made.ThroughSequence, turn.Usage.SummaryThroughSequence);
        Assert.Equal(new CompactionSettings(CompactionModes.Auto, 1, 0.5), turn.Usage.Compaction);

        Assert.Equal([made], await _client.ListCompactionsAsync(session.Id));
        var usage = await _client.GetUsageAsync(session.Id, SmallHistory);
        Assert.Equal(made.ThroughSequence, usage.SummaryThroughSequence);
        Assert.Equal(usage.HistoryTokens / (double)SmallHistory, usage.BudgetUsed, 4);
        // Without a budget the usage is measured at the latest turn's.
        Assert.Equal(SmallHistory, (await _client.GetUsageAsync(session.Id)).HistoryBudget);

        var history = await _client.GetHistoryAsync(session.Id, SmallHistory);
        Assert.Equal(made, history.Summary);
        Assert.Equal(block, history.SummaryBlock());

        var replay = await _client.ReplayAsync(session.Id);
        Assert.Equal([made], replay.Turns.SelectMany(t => t.Compactions));
        Assert.NotNull(replay.Usage);
        Assert.Equal(1, replay.Usage.Compactions);
    }

    [Fact]
    public async Task Compact_on_a_session_with_compaction_off_folds_once_and_a_retry_returns_the_compaction_in_force()
    {
        var session = await SessionWithNotes(new CreateSessionRequest(Compaction: CompactionModes.Off));
        var turn = await _client.TakeTurnAsync(session.Id, new TurnRequest("How do I enable write-ahead logging?", ContextBudget: 300, HistoryBudget: SmallHistory));
        Assert.Null(turn.Compaction);
        Assert.Null(turn.History.Summary);
        Assert.Null(turn.History.SummaryBlock());
        Assert.True(turn.Usage.EvictedMessages > 0);

        var first = await _client.CompactAsync(session.Id, SmallHistory);
        var again = await _client.CompactAsync(session.Id, SmallHistory);

        Assert.True(first.Compacted);
        var made = Assert.IsType<Compaction>(first.Compaction);
        Assert.Equal("manual", made.Trigger);
        Assert.Equal(0, first.Usage.EvictedMessages);
        Assert.Equal(1, first.Usage.Compactions);
        Assert.False(again.Compacted);
        Assert.Equal(made, again.Compaction);
        Assert.Equal(first.Usage, again.Usage);
        Assert.Equal([made], await _client.ListCompactionsAsync(session.Id));
    }

    [Fact]
    public async Task A_session_without_compactions_lists_none_and_reports_its_usage()
    {
        var session = await _client.CreateSessionAsync();
        await _client.AddMessageAsync(session.Id, new AddMessageRequest(MessageRoles.System, Notes[0]));

        var usage = await _client.GetUsageAsync(session.Id, 500);

        Assert.Empty(await _client.ListCompactionsAsync(session.Id));
        Assert.Equal(1, usage.Messages);
        Assert.Equal(1, usage.HistoryMessages);
        Assert.Equal(0, usage.SummaryTokens);
        Assert.Null(usage.SummaryThroughSequence);
        Assert.Equal(0, usage.EvictedMessages);
        Assert.Equal(usage.MessageTokens, usage.HistoryTokens);
        var outcome = await _client.CompactAsync(session.Id, 500);
        Assert.False(outcome.Compacted);
        Assert.Null(outcome.Compaction);
    }

    [Fact]
    public async Task A_bad_budget_or_an_unknown_session_is_the_matching_exception()
    {
        var session = await _client.CreateSessionAsync();

        var budget = await Assert.ThrowsAsync<InvalidRequestException>(() => _client.CompactAsync(session.Id, 0));
        var usage = await Assert.ThrowsAsync<InvalidRequestException>(() => _client.GetUsageAsync(session.Id, 0));
        var mode = await Assert.ThrowsAsync<InvalidRequestException>(() => _client.CreateSessionAsync(new CreateSessionRequest(Compaction: "sometimes")));
        await Assert.ThrowsAsync<NotFoundException>(() => _client.ListCompactionsAsync("no-such-session"));
        await Assert.ThrowsAsync<NotFoundException>(() => _client.CompactAsync("no-such-session"));

        Assert.Contains("must be between 1 and", budget.Detail, StringComparison.Ordinal);
        Assert.Contains("must be between 1 and", usage.Detail, StringComparison.Ordinal);
        Assert.Contains("sometimes", mode.Detail, StringComparison.Ordinal);
    }
}
