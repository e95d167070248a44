using ContextCompiler.Client;
using ContextCompiler.Server.Tests;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace ContextCompiler.SemanticKernel.Tests;

/// <summary>The service-summary reducer over a real session on the in-process server: the summary is the service's compaction.</summary>
public sealed class ServiceSummaryReducerTests(SharedServer server) : IClassFixture<SharedServer>
{
    private const int SmallHistory = 60;
    private const string Instructions = "You answer from the cited context.";

    private static readonly (string Question, string Reply)[] Exchanges =
    [
        ("How do I enable write-ahead logging?", "Run PRAGMA journal_mode=WAL [1]. The mode is stored in the database file, so every later connection uses it too."),
        ("Does that setting persist after the database is closed?", "Yes, it persists [1]. Only switching to another journal mode turns it off again."),
        ("What happens to readers during a checkpoint?", "Readers keep reading the old pages while the checkpoint copies the new ones [1]."),
        ("How does an upsert handle a uniqueness conflict?", "ON CONFLICT DO UPDATE turns the insert into an update of the existing row [1]."),
    ];

    private readonly IContextCompilerClient _client = server.Client();

    // Every exchange stored in the session (the question as a turn, the reply as its assistant message) and mirrored in the chat history.
    private async Task Exchange(string session, ChatHistory history, (string Question, string Reply) exchange)
    {
        await _client.TakeTurnAsync(session, new TurnRequest(exchange.Question, ContextBudget: 200, HistoryBudget: SmallHistory, Compaction: CompactionModes.Off));
        history.AddUserMessage(exchange.Question);
        await _client.AddMessageAsync(session, new AddMessageRequest(MessageRoles.Assistant, exchange.Reply));
        history.AddAssistantMessage(exchange.Reply);
    }

    [Fact]
    public async Task The_history_becomes_the_instructions_the_services_summary_and_the_messages_its_window_kept_and_reduces_again_after_more_turns()
    {
        var session = await _client.CreateSessionAsync();
        var history = new ChatHistory(Instructions);
        foreach (var exchange in Exchanges.Take(3))
        {
            await Exchange(session.Id, history, exchange);
        }

        var original = history.ToList();
        var reducer = new ServiceSummaryChatHistoryReducer(_client, session.Id, SmallHistory);

        Assert.True(await history.ReduceInPlaceAsync(reducer, CancellationToken.None));

        var compaction = Assert.Single(await _client.ListCompactionsAsync(session.Id));
        Assert.Equal("manual", compaction.Trigger);
        Assert.Contains(Exchanges[0].Question, compaction.Summary, StringComparison.Ordinal);
        var window = await _client.GetHistoryAsync(session.Id, SmallHistory);
        Assert.Equal(compaction, window.Summary);
        Assert.Same(original[0], history[0]);
        Assert.Equal(AuthorRole.System, history[1].Role);
        Assert.Equal(window.SummaryBlock(), history[1].Content);
        Assert.Equal(compaction.Id, history[1].Metadata![ServiceSummaryChatHistoryReducer.CompactionIdKey]);
        // After the summary: the very message objects of the history that the service's window kept, in order.
        Assert.Equal(window.Messages.Select(m => m.Content), history.Skip(2).Select(m => m.Content));
        Assert.All(history.Skip(2), m => Assert.Contains(original, o => ReferenceEquals(o, m)));
        Assert.Equal(original[^1], history[^1]);
        Assert.DoesNotContain(history, m => m.Content == Exchanges[0].Question);

        // Nothing new to fold: the history stays as it is and no compaction is stored.
        Assert.False(await history.ReduceInPlaceAsync(reducer, CancellationToken.None));
        Assert.Single(await _client.ListCompactionsAsync(session.Id));

        // One more exchange on the reduced history: the second compaction's summary replaces the first.
        await Exchange(session.Id, history, Exchanges[3]);
        Assert.True(await history.ReduceInPlaceAsync(reducer, CancellationToken.None));

        var second = (await _client.ListCompactionsAsync(session.Id))[^1];
        Assert.Equal(2, second.Number);
        var after = await _client.GetHistoryAsync(session.Id, SmallHistory);
        Assert.Equal(Instructions, history[0].Content);
        Assert.Single(history, m => m.Metadata?.ContainsKey(ServiceSummaryChatHistoryReducer.FirstSequenceKey) == true);
        Assert.Equal(after.SummaryBlock(), history[1].Content);
        Assert.Equal(after.Messages.Select(m => m.Content), history.Skip(2).Select(m => m.Content));
        Assert.Equal(Exchanges[3].Reply, history[^1].Content);
    }

    [Fact]
    public async Task A_message_not_yet_stored_is_kept_after_the_window()
    {
        var session = await _client.CreateSessionAsync();
        var history = new ChatHistory(Instructions);
        foreach (var exchange in Exchanges.Take(3))
        {
            await Exchange(session.Id, history, exchange);
        }

        history.AddUserMessage("And foreign keys?");

        var reduced = (await new ServiceSummaryChatHistoryReducer(_client, session.Id, SmallHistory).ReduceAsync(history))!.ToList();

        Assert.Equal("And foreign keys?", reduced[^1].Content);
        Assert.Equal(Exchanges[2].Reply, reduced[^2].Content);
        Assert.StartsWith("Summary of messages 1-", reduced[1].Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_conversation_that_fits_is_not_reduced_and_nothing_is_compacted()
    {
        var session = await _client.CreateSessionAsync();
        var history = new ChatHistory(Instructions);
        await Exchange(session.Id, history, Exchanges[0]);

        Assert.Null(await new ServiceSummaryChatHistoryReducer(_client, session.Id, 500).ReduceAsync(history));
        Assert.Empty(await _client.ListCompactionsAsync(session.Id));
    }

    [Fact]
    public async Task A_history_out_of_step_with_the_session_is_an_error_not_a_guess()
    {
        var session = await _client.CreateSessionAsync();
        var history = new ChatHistory(Instructions);
        foreach (var exchange in Exchanges.Take(3))
        {
            await Exchange(session.Id, history, exchange);
        }

        history.RemoveAt(3);
        var reducer = new ServiceSummaryChatHistoryReducer(_client, session.Id, SmallHistory) { CompactFirst = false };

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => reducer.ReduceAsync(history));

        Assert.Contains(session.Id, e.Message, StringComparison.Ordinal);
        Assert.Empty(await _client.ListCompactionsAsync(session.Id));
    }
}
