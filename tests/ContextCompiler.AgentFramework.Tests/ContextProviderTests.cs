using System.Text.Json;
using ContextCompiler.Client;
using ContextCompiler.Server.Tests;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.AgentFramework.Tests;

/// <summary>A real <see cref="ChatClientAgent"/> with the provider against the in-process server; a scripted client stands in for the model.</summary>
public sealed class ContextProviderTests(SharedServer server) : IClassFixture<SharedServer>
{
    private const string Wal = "How do I enable write-ahead logging?";
    private const string FollowUp = "Does that setting persist after the database is closed?";

    private readonly IContextCompilerClient _client = server.Client();

    private ContextCompilerContextProvider Provider(Action<ContextCompilerContextProviderOptions>? configure = null)
    {
        var options = new ContextCompilerContextProviderOptions { UserId = TestServices.NewUser() };
        configure?.Invoke(options);
        return new ContextCompilerContextProvider(_client, options);
    }

    private static ChatMessage Context(ScriptedCall call) =>
        Assert.Single(call.Messages, m => m.Text.StartsWith(ContextCompilerContextProvider.ContextHeader, StringComparison.Ordinal));

    [Fact]
    public async Task The_model_receives_the_working_set_with_its_citations_before_the_question_and_the_cite_instructions()
    {
        var model = new ScriptedChatClient("Run PRAGMA journal_mode=WAL [1].");
        var provider = Provider();
        var agent = model.AsContextCompilerAgent(provider, new ChatClientAgentOptions { ChatOptions = new() { Instructions = "You are the SQLite helper." } });
        var session = await agent.CreateSessionAsync();

        var response = await agent.RunAsync(Wal, session);

        Assert.Equal("Run PRAGMA journal_mode=WAL [1].", response.Text);
        var call = Assert.Single(model.Calls);
        Assert.Equal("You are the SQLite helper.\n" + ContextCompilerContextProviderOptions.DefaultInstructions, call.Options?.Instructions);
        var replay = await _client.ReplayAsync(provider.GetState(session).SessionId!);
        var stored = Assert.Single(replay.Turns).WorkingSet!.Value;
        var context = Context(call);
        Assert.Equal(ChatRole.System, context.Role);
        Assert.Equal(ContextCompilerContextProvider.ContextHeader + "\n\n" + stored.Text, context.Text);
        Assert.Contains(stored.Citations, c => c.Path.EndsWith("wal.md", StringComparison.Ordinal));
        Assert.All(stored.Citations, c => Assert.Contains($"[{c.N}] {c.Corpus}/{c.Path}:L{c.StartLine}-L{c.EndLine}\n", context.Text, StringComparison.Ordinal));
        // The context belongs to the question, so it comes right before it.
        Assert.Equal([ChatRole.System, ChatRole.User], call.Messages.Select(m => m.Role));
        Assert.Equal(Wal, call.Messages[^1].Text);
        Assert.Equal(stored.Citations, provider.GetState(session).LastTurn!.Citations);
    }

    [Fact]
    public async Task Two_turns_are_stored_as_user_working_set_and_assistant_with_the_citation_check_of_each_reply()
    {
        var model = new ScriptedChatClient("Run PRAGMA journal_mode=WAL [1]. It also needs shared memory [99].", "Yes, WAL mode persists [1].");
        var provider = Provider();
        var agent = model.AsContextCompilerAgent(provider);
        var session = await agent.CreateSessionAsync();

        await agent.RunAsync(Wal, session);
        var first = provider.GetState(session).LastReply;
        await agent.RunAsync(FollowUp, session);
        var second = provider.GetState(session).LastReply;

        var replay = await _client.ReplayAsync(provider.GetState(session).SessionId!);
        Assert.Equal(4, replay.Session.MessageCount);
        Assert.Collection(replay.Turns,
            t =>
            {
                Assert.Equal(Wal, t.UserMessage!.Content);
                Assert.NotEmpty(t.WorkingSet!.Value.Citations);
                Assert.Equal(MessageRoles.Assistant, t.AssistantMessage!.Role);
                Assert.Equal("Run PRAGMA journal_mode=WAL [1]. It also needs shared memory [99].", t.AssistantMessage.Content);
                Assert.Equal([1], t.AssistantMessage.CitationCheck!.Used);
                Assert.Equal([99], t.AssistantMessage.CitationCheck.Unknown);
                Assert.Equal(t.AssistantMessage.Id, first!.Id);
            },
            t =>
            {
                Assert.Equal(FollowUp, t.UserMessage!.Content);
                Assert.NotEmpty(t.WorkingSet!.Value.Citations);
                Assert.Equal("Yes, WAL mode persists [1].", t.AssistantMessage!.Content);
                Assert.Equal([1], t.AssistantMessage.CitationCheck!.Used);
                Assert.Empty(t.AssistantMessage.CitationCheck.Unknown);
                Assert.Equal(t.AssistantMessage.Id, second!.Id);
            });
        // What the caller shows is what the service checked.
        Assert.Equal([99], first!.CitationCheck!.Unknown);
        Assert.Equal(1.0, second!.CitationCheck!.MarkedShare);
    }

    [Fact]
    public async Task The_second_turn_sends_the_first_exchange_once_from_the_service_history()
    {
        var model = new ScriptedChatClient("Run PRAGMA journal_mode=WAL [1].", "Yes [1].");
        var provider = Provider();
        var agent = model.AsContextCompilerAgent(provider);
        var session = await agent.CreateSessionAsync();

        await agent.RunAsync(Wal, session);
        await agent.RunAsync(FollowUp, session);

        var call = model.Calls[1];
        Assert.Equal(1, call.Count(Wal));
        Assert.Equal(1, call.Count("Run PRAGMA journal_mode=WAL [1]."));
        // History, then the new turn's context, then the question; the history messages are the service's stored ones.
        Assert.Equal([ChatRole.User, ChatRole.Assistant, ChatRole.System, ChatRole.User], call.Messages.Select(m => m.Role));
        var replay = await _client.ReplayAsync(provider.GetState(session).SessionId!);
        Assert.Equal([replay.Turns[0].UserMessage!.Id, replay.Turns[0].AssistantMessage!.Id], call.Messages.Take(2).Select(m => m.MessageId));
        Assert.Equal(2, provider.GetState(session).LastTurn!.HistoryMessages);
        // The agent session keeps no copy of the conversation: the service holds it.
        Assert.False(session.StateBag.TryGetValue<InMemoryChatHistoryProvider.State>(nameof(InMemoryChatHistoryProvider), out _));
    }

    [Fact]
    public async Task With_the_agents_default_in_memory_history_the_first_exchange_is_still_sent_once()
    {
        var model = new ScriptedChatClient("Run PRAGMA journal_mode=WAL [1].", "Yes [1].");
        var agent = new ChatClientAgent(model, new ChatClientAgentOptions { AIContextProviders = [Provider()] });
        var session = await agent.CreateSessionAsync();

        await agent.RunAsync(Wal, session);
        await agent.RunAsync(FollowUp, session);

        var call = model.Calls[1];
        Assert.Equal(1, call.Count(Wal));
        Assert.Equal(1, call.Count("Run PRAGMA journal_mode=WAL [1]."));
        Assert.Single(call.Messages, m => m.Text.StartsWith(ContextCompilerContextProvider.ContextHeader, StringComparison.Ordinal));
        Assert.Equal(FollowUp, call.Messages[^1].Text);
    }

    [Fact]
    public async Task A_serialized_and_restored_agent_session_continues_the_same_service_session()
    {
        string user = TestServices.NewUser();
        var firstModel = new ScriptedChatClient("Run PRAGMA journal_mode=WAL [1].");
        var firstProvider = Provider(o => o.UserId = user);
        var firstAgent = firstModel.AsContextCompilerAgent(firstProvider);
        var session = await firstAgent.CreateSessionAsync();
        await firstAgent.RunAsync(Wal, session);
        var serialized = (await firstAgent.SerializeSessionAsync(session)).GetRawText();

        // A new process: a new provider and agent, and the session read back from its JSON.
        var secondModel = new ScriptedChatClient("Yes [1].");
        var secondProvider = Provider(o => o.UserId = user);
        var secondAgent = secondModel.AsContextCompilerAgent(secondProvider);
        using var json = JsonDocument.Parse(serialized);
        var restored = await secondAgent.DeserializeSessionAsync(json.RootElement);
        Assert.Equal(firstProvider.GetState(session).SessionId, secondProvider.GetState(restored).SessionId);
        await secondAgent.RunAsync(FollowUp, restored);

        var sessions = await _client.ListSessionsAsync(new SessionQuery(UserId: user));
        var only = Assert.Single(sessions.Items);
        Assert.Equal(firstProvider.GetState(session).SessionId, only.Id);
        Assert.Equal(4, only.MessageCount);
        Assert.Equal(1, secondModel.Calls[0].Count(Wal));
        Assert.Equal(1, secondModel.Calls[0].Count("Run PRAGMA journal_mode=WAL [1]."));
    }

    [Fact]
    public async Task A_failed_model_call_stores_no_assistant_message_and_the_next_reply_answers_the_next_turn()
    {
        var model = new ScriptedChatClient(new HttpRequestException("The model is unavailable."), "Yes [1].");
        var provider = Provider();
        var agent = model.AsContextCompilerAgent(provider);
        var session = await agent.CreateSessionAsync();

        await Assert.ThrowsAsync<HttpRequestException>(() => agent.RunAsync(Wal, session));
        string id = provider.GetState(session).SessionId!;
        var afterFailure = await _client.ReplayAsync(id);
        Assert.Equal(1, afterFailure.Session.MessageCount);
        Assert.Null(Assert.Single(afterFailure.Turns).AssistantMessage);
        Assert.Null(provider.GetState(session).LastReply);

        await agent.RunAsync(FollowUp, session);

        var replay = await _client.ReplayAsync(id);
        Assert.Equal(3, replay.Session.MessageCount);
        Assert.Null(replay.Turns[0].AssistantMessage);
        Assert.Equal("Yes [1].", replay.Turns[1].AssistantMessage!.Content);
    }

    [Fact]
    public async Task Options_set_the_new_sessions_user_and_metadata_the_turn_budgets_and_the_instructions()
    {
        using var metadata = JsonDocument.Parse("""{"channel":"agent"}""");
        string user = TestServices.NewUser();
        var model = new ScriptedChatClient("WAL [1].");
        var provider = Provider(o =>
        {
            o.UserId = user;
            o.Metadata = metadata.RootElement.Clone();
            o.ContextBudget = 120;
            o.HistoryBudget = 50;
            o.Instructions = "Cite like [n].";
        });
        var agent = model.AsContextCompilerAgent(provider);
        var session = await agent.CreateSessionAsync();

        await agent.RunAsync(Wal, session);

        var created = await _client.GetSessionAsync(provider.GetState(session).SessionId!);
        Assert.Equal(user, created.UserId);
        Assert.True(JsonElement.DeepEquals(metadata.RootElement, created.Metadata!.Value));
        var set = Assert.Single((await _client.ReplayAsync(created.Id)).Turns).WorkingSet!.Value;
        Assert.Equal(120, set.Budget);
        Assert.InRange(provider.GetState(session).LastTurn!.ContextTokens, 1, 120);
        Assert.Equal("Cite like [n].", model.Calls[0].Options?.Instructions);
    }

    [Fact]
    public async Task The_provider_registered_in_DI_takes_turns_through_the_registered_client()
    {
        string user = TestServices.NewUser();
        var collection = new ServiceCollection();
        collection.AddTestClient(server.Factory);
        await using var services = collection.AddContextCompilerContextProvider(o => o.UserId = user).BuildServiceProvider();
        var provider = services.GetRequiredService<ContextCompilerContextProvider>();
        Assert.Same(provider, services.GetRequiredService<ContextCompilerContextProvider>());
        var agent = new ScriptedChatClient("WAL [1].").AsContextCompilerAgent(provider);

        await agent.RunAsync(Wal, await agent.CreateSessionAsync());

        var only = Assert.Single((await _client.ListSessionsAsync(new SessionQuery(UserId: user))).Items);
        Assert.Equal(2, only.MessageCount);
    }

    [Fact]
    public void The_agent_factory_refuses_a_local_history_provider()
    {
        var options = new ChatClientAgentOptions { ChatHistoryProvider = new InMemoryChatHistoryProvider() };

        var e = Assert.Throws<ArgumentException>(() => new ScriptedChatClient().AsContextCompilerAgent(Provider(), options));

        Assert.Contains("history", e.Message, StringComparison.Ordinal);
    }
}
