using System.Net;
using ContextCompiler.Server.Tests;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.Client.Tests;

/// <summary>
/// Writes whose response is lost on the way back are retried by the resilience handler with the same Idempotency-Key,
/// and the server stores them once.
/// </summary>
public sealed class RetryTests(SharedServer server) : IClassFixture<SharedServer>
{
    private (IContextCompilerClient Client, LosingHandler Wire) ClientLosingFirstResponseTo(string pathEnd, bool asConnectionFailure = false)
    {
        server.Factory.Client().Dispose();
        var wire = new LosingHandler(request => request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath.EndsWith(pathEnd, StringComparison.Ordinal), asConnectionFailure);
        var client = TestClients.Provider(server.Factory, handlers: b => b.AddHttpMessageHandler(() => wire)).GetRequiredService<IContextCompilerClient>();
        return (client, wire);
    }

    [Fact]
    public async Task A_message_whose_response_was_lost_is_retried_with_its_key_and_stored_once()
    {
        var (client, wire) = ClientLosingFirstResponseTo("/messages");
        var session = await client.CreateSessionAsync();
        var turn = await client.TakeTurnAsync(session.Id, new TurnRequest("What is an upsert?", ContextBudget: 200));

        var message = await client.AddMessageAsync(session.Id, new AddMessageRequest(MessageRoles.Assistant, "ON CONFLICT DO UPDATE [1]."));

        wire.AssertOneKeyRetriedAndReplayed();
        var replay = await client.ReplayAsync(session.Id);
        Assert.Equal(2, replay.Session.MessageCount);
        var only = Assert.Single(replay.Turns);
        Assert.Equal(turn.UserMessage.Id, only.UserMessage!.Id);
        Assert.Equal(message.Id, only.AssistantMessage!.Id);
        Assert.Empty(only.ExtraMessages);
    }

    [Fact]
    public async Task A_turn_whose_connection_failed_after_it_was_stored_is_retried_and_stored_once()
    {
        var (client, wire) = ClientLosingFirstResponseTo("/turns", asConnectionFailure: true);
        var session = await client.CreateSessionAsync();

        var turn = await client.TakeTurnAsync(session.Id, new TurnRequest("How do I enable write-ahead logging?"));

        wire.AssertOneKeyRetriedAndReplayed();
        var replay = await client.ReplayAsync(session.Id);
        var only = Assert.Single(replay.Turns);
        Assert.Equal(turn.UserMessage.Id, only.UserMessage!.Id);
        Assert.Equal(turn.WorkingSet.Json, only.WorkingSet!.Json);
        Assert.Equal(1, replay.Session.MessageCount);
    }

    [Fact]
    public async Task A_session_whose_creation_response_was_lost_is_created_once()
    {
        var (client, wire) = ClientLosingFirstResponseTo("/v1/sessions");
        string user = "user-" + Guid.NewGuid().ToString("N");

        var session = await client.CreateSessionAsync(new CreateSessionRequest(user));

        wire.AssertOneKeyRetriedAndReplayed();
        var page = await client.ListSessionsAsync(new SessionQuery(UserId: user));
        Assert.Equal(session.Id, Assert.Single(page.Items).Id);
    }

    [Fact]
    public async Task Two_calls_with_the_same_message_send_two_keys_and_store_two_turns()
    {
        var wire = new LosingHandler(_ => false, asConnectionFailure: false);
        var client = TestClients.Provider(server.Factory, handlers: b => b.AddHttpMessageHandler(() => wire)).GetRequiredService<IContextCompilerClient>();
        var session = await client.CreateSessionAsync();

        var first = await client.TakeTurnAsync(session.Id, new TurnRequest("What is an upsert?", ContextBudget: 200));
        var second = await client.TakeTurnAsync(session.Id, new TurnRequest("What is an upsert?", ContextBudget: 200));

        var turnKeys = wire.Attempts.Where(a => a.Path.EndsWith("/turns", StringComparison.Ordinal)).Select(a => a.Key).ToList();
        Assert.Equal(2, turnKeys.Count);
        Assert.All(turnKeys, k => Assert.True(Guid.TryParse(k, out _)));
        Assert.NotEqual(turnKeys[0], turnKeys[1]);
        Assert.NotEqual(first.UserMessage.Id, second.UserMessage.Id);
        Assert.Equal(2, (await client.ReplayAsync(session.Id)).Turns.Count);
    }

    /// <summary>
    /// Sits where the network would: the first request that <paramref name="loses"/> selects reaches the server, but its
    /// response is dropped and the client sees a 503 (or a connection failure) instead. Every write attempt is recorded.
    /// </summary>
    internal sealed class LosingHandler(Func<HttpRequestMessage, bool> loses, bool asConnectionFailure) : DelegatingHandler
    {
        private int _lost;

        public List<(string Path, string? Key, bool Replayed, HttpStatusCode Status)> Attempts { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            string? key = request.Headers.TryGetValues(ContextCompilerClient.IdempotencyKeyHeader, out var keys) ? keys.Single() : null;
            bool replayed = response.Headers.TryGetValues(ContextCompilerClient.IdempotentReplayedHeader, out var flags) && flags.Single() == "true";
            if (request.Method == HttpMethod.Post)
            {
                lock (Attempts)
                {
                    Attempts.Add((request.RequestUri!.AbsolutePath, key, replayed, response.StatusCode));
                }
            }

            if (loses(request) && Interlocked.Exchange(ref _lost, 1) == 0)
            {
                Assert.True(response.IsSuccessStatusCode, "The write to lose failed on the server: " + response.StatusCode);
                response.Dispose();
                return asConnectionFailure
                    ? throw new HttpRequestException("The connection was reset after the request was sent.")
                    : new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { RequestMessage = request };
            }

            return response;
        }

        /// <summary>The lost write was sent twice with one key; the server stored it on the first and replayed it on the second.</summary>
        public void AssertOneKeyRetriedAndReplayed()
        {
            Assert.Equal(1, Volatile.Read(ref _lost));
            var attempts = Attempts.Where(a => loses(new HttpRequestMessage(HttpMethod.Post, new Uri("http://x" + a.Path)))).ToList();
            Assert.Equal(2, attempts.Count);
            Assert.NotNull(attempts[0].Key);
            Assert.Equal(attempts[0].Key, attempts[1].Key);
            Assert.False(attempts[0].Replayed);
            Assert.True(attempts[1].Replayed);
            Assert.Equal(attempts[0].Status, attempts[1].Status);
        }
    }
}
