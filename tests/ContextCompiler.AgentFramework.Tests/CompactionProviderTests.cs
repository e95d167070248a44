using ContextCompiler.Client;
using ContextCompiler.Server.Tests;
using Microsoft.Extensions.AI;

namespace ContextCompiler.AgentFramework.Tests;

/// <summary>The provider with the service's compaction: the model receives the service's summary, and no call summarises locally.</summary>
public sealed class CompactionProviderTests(SharedServer server) : IClassFixture<SharedServer>
{
    private const int SmallHistory = 60;

    private static readonly string[] Questions =
    [
        "How do I enable write-ahead logging?",
        "Does that setting persist after the database is closed?",
        "What happens to readers during a checkpoint?",
    ];

    private readonly IContextCompilerClient _client = server.Client();

    private ContextCompilerContextProvider Provider(Action<ContextCompilerContextProviderOptions> configure)
    {
        var options = new ContextCompilerContextProviderOptions { UserId = TestServices.NewUser(), ContextBudget = 300, HistoryBudget = SmallHistory };
        configure(options);
        return new ContextCompilerContextProvider(_client, options);
    }

    [Fact]
    public async Task Once_the_service_compacts_the_model_receives_its_summary_first_and_only_the_messages_it_does_not_cover()
    {
        // Replies long enough that the first exchange no longer fits a 60-token history by the third turn.
        var model = new ScriptedChatClient(
            "Run PRAGMA journal_mode=WAL [1]. The mode is stored in the database file, so every later connection uses it too.",
            "Yes, it persists [1]. Only switching to another journal mode turns it off again, and that needs exclusive access.",
            "Readers keep reading [1].");
        var provider = Provider(o => (o.Compaction, o.CompactionThreshold, o.SummaryShare) = (CompactionModes.Auto, 1, 0.5));
        var agent = model.AsContextCompilerAgent(provider);
        var session = await agent.CreateSessionAsync();

        foreach (var question in Questions)
        {
            await agent.RunAsync(question, session);
        }

        string id = provider.GetState(session).SessionId!;
        Assert.Equal(new CompactionSettings(CompactionModes.Auto, 1, 0.5), (await _client.GetSessionAsync(id)).Compaction);
        var compactions = await _client.ListCompactionsAsync(id);
        Assert.NotEmpty(compactions);
        var turn = provider.GetState(session).LastTurn!;
        var inForce = Assert.IsType<Compaction>(turn.Summary);
        Assert.Equal(compactions[^1], inForce);
        Assert.Equal("auto", inForce.Trigger);

        // The last call: the summary block as the service wrote it, then the uncovered history, the context and the question.
        var call = model.Calls[^1];
        var first = call.Messages[0];
        Assert.Equal(ChatRole.System, first.Role);
        Assert.Equal($"Summary of messages 1-{inForce.ThroughSequence} of this conversation:\n{inForce.Summary}", first.Text);
        Assert.Equal(inForce.Id, first.MessageId);
        Assert.Contains(Questions[0], inForce.Summary, StringComparison.Ordinal);
        Assert.Equal(1, call.Count(first.Text));
        Assert.Equal(0, call.Count(Questions[0]));
        var stored = (await _client.ReplayAsync(id)).Turns.SelectMany(t => new[] { t.UserMessage, t.AssistantMessage }).OfType<Message>().ToList();
        var history = call.Messages.Skip(1).TakeWhile(m => !m.Text.StartsWith(ContextCompilerContextProvider.ContextHeader, StringComparison.Ordinal)).ToList();
        Assert.Equal(turn.HistoryMessages, history.Count);
        Assert.All(history, m => Assert.True(stored.Single(s => s.Id == m.MessageId).Sequence > inForce.ThroughSequence));
        Assert.Equal(Questions[^1], call.Messages[^1].Text);
        // One model call per run: the summary came from the service, not from this model.
        Assert.Equal(Questions.Length, model.Calls.Count);
    }

    [Fact]
    public async Task Compaction_off_on_the_turns_holds_for_a_given_service_session_and_no_summary_is_sent()
    {
        var existing = await _client.CreateSessionAsync(new CreateSessionRequest(TestServices.NewUser(), Compaction: CompactionModes.Auto, CompactionThreshold: 1));
        foreach (int i in Enumerable.Range(1, 8))
        {
            await _client.AddMessageAsync(existing.Id, new AddMessageRequest(MessageRoles.System, $"Note {i:00}: keep setting {i:00}."));
        }

        var model = new ScriptedChatClient("WAL [1].");
        var provider = Provider(o => o.Compaction = CompactionModes.Off);
        var agent = model.AsContextCompilerAgent(provider);
        var session = await agent.CreateSessionAsync();
        provider.UseServiceSession(session, existing.Id);

        await agent.RunAsync(Questions[0], session);

        Assert.Empty(await _client.ListCompactionsAsync(existing.Id));
        Assert.Null(provider.GetState(session).LastTurn!.Summary);
        Assert.DoesNotContain(model.Calls[0].Messages, m => m.Text.StartsWith("Summary of messages", StringComparison.Ordinal));
        // The history is the newest notes that fit; the older ones simply left it.
        Assert.Contains(model.Calls[0].Messages, m => m.Text == "Note 08: keep setting 08.");
        Assert.DoesNotContain(model.Calls[0].Messages, m => m.Text == "Note 01: keep setting 01.");
        Assert.True((await _client.GetUsageAsync(existing.Id, SmallHistory)).EvictedMessages > 0);
    }
}
