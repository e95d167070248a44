using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ContextCompiler.Engine.Sessions;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.Server.Tests;

/// <summary>Idempotency-Key on the session writes: a retry returns the original response and writes nothing.</summary>
public sealed class IdempotencyTests(SharedServer server) : IClassFixture<SharedServer>
{
    private readonly HttpClient _client = server.Factory.Client();

    private static HttpRequestMessage Post(string path, object body, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        return request;
    }

    private static string NewKey() => Guid.NewGuid().ToString();

    private static async Task<int> MessageCount(HttpClient client, string session) =>
        (await (await client.GetAsync($"/v1/sessions/{session}")).Json()).GetProperty("messageCount").GetInt32();

    [Fact]
    public async Task A_retried_turn_returns_the_original_response_and_stores_nothing_new()
    {
        var id = await _client.CreateSession();
        string key = NewKey();
        var body = new { message = "How do I turn on write-ahead logging?", totalBudget = 1200 };

        var first = await _client.SendAsync(Post($"/v1/sessions/{id}/turns", body, key));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var retry = await _client.SendAsync(Post($"/v1/sessions/{id}/turns", body, key));
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);

        var original = await first.Json();
        var replayed = await retry.Json();
        Assert.Equal(original.GetProperty("userMessage").GetProperty("id").GetString(), replayed.GetProperty("userMessage").GetProperty("id").GetString());
        Assert.Equal(original.GetProperty("workingSet").GetRawText(), replayed.GetProperty("workingSet").GetRawText());
        Assert.Equal(original.GetRawText(), replayed.GetRawText());
        Assert.True(retry.Headers.Contains("Idempotent-Replayed"));
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(1, await MessageCount(_client, id));
    }

    [Fact]
    public async Task A_retried_session_create_and_message_return_the_same_ids()
    {
        string createKey = NewKey();
        var first = await _client.SendAsync(Post("/v1/sessions", new { userId = "idem-user" }, createKey));
        var retry = await _client.SendAsync(Post("/v1/sessions", new { userId = "idem-user" }, createKey));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal(first.Headers.Location, retry.Headers.Location);
        var id = (await first.Json()).GetProperty("id").GetString()!;
        Assert.Equal(id, (await retry.Json()).GetProperty("id").GetString());

        string messageKey = NewKey();
        var say = new { role = "assistant", content = "Use PRAGMA journal_mode=WAL." };
        var m1 = await (await _client.SendAsync(Post($"/v1/sessions/{id}/messages", say, messageKey))).Json();
        var m2 = await (await _client.SendAsync(Post($"/v1/sessions/{id}/messages", say, messageKey))).Json();
        Assert.Equal(m1.GetProperty("id").GetString(), m2.GetProperty("id").GetString());
        Assert.Equal(1, await MessageCount(_client, id));
    }

    [Fact]
    public async Task The_same_key_with_a_different_body_is_a_422_problem_and_writes_nothing()
    {
        var id = await _client.CreateSession();
        string key = NewKey();
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(Post($"/v1/sessions/{id}/turns", new { message = "What is WAL?" }, key))).StatusCode);
        var other = await _client.SendAsync(Post($"/v1/sessions/{id}/turns", new { message = "What is a savepoint?" }, key));
        await other.AssertProblem(422);
        var elsewhere = await _client.SendAsync(Post("/v1/sessions", new { }, key));
        await elsewhere.AssertProblem(422);
        Assert.Equal(1, await MessageCount(_client, id));
    }

    [Fact]
    public async Task Concurrent_requests_with_one_key_make_one_write()
    {
        var id = await _client.CreateSession();
        string key = NewKey();
        var body = new { message = "How do savepoints nest?" };
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => _client.SendAsync(Post($"/v1/sessions/{id}/turns", body, key))));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var ids = await Task.WhenAll(responses.Select(async r => (await r.Json()).GetProperty("userMessage").GetProperty("id").GetString()));
        Assert.Single(ids.Distinct());
        Assert.Equal(1, await MessageCount(_client, id));
    }

    [Fact]
    public async Task Keys_belong_to_a_tenant()
    {
        string key = NewKey();
        var alpha = await (await _client.SendAsync(Post("/v1/sessions", new { }, key))).Json();
        var beta = server.Factory.Client(ServerFactory.BetaKey);
        var betaResponse = await beta.SendAsync(Post("/v1/sessions", new { }, key));
        Assert.Equal(HttpStatusCode.Created, betaResponse.StatusCode);
        Assert.NotEqual(alpha.GetProperty("id").GetString(), (await betaResponse.Json()).GetProperty("id").GetString());
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("é-accent")]
    public async Task A_malformed_key_is_a_400_problem(string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/sessions") { Content = JsonContent.Create(new { }) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        var response = await _client.SendAsync(request);
        Assert.True((int)response.StatusCode is 400, await response.Content.ReadAsStringAsync());
        await response.AssertProblem(400);
    }

    [Fact]
    public async Task A_key_longer_than_255_characters_is_a_400_problem()
    {
        await (await _client.SendAsync(Post("/v1/sessions", new { }, new string('k', 256)))).AssertProblem(400);
    }

    [Fact]
    public async Task A_key_survives_a_restart()
    {
        string root = ServerFactory.NewFolder();
        string key = NewKey();
        string id;
        string firstBody;
        using (var before = new ServerFactory(root))
        {
            var client = before.Client();
            id = await client.CreateSession();
            var response = await client.SendAsync(Post($"/v1/sessions/{id}/turns", new { message = "What does VACUUM do?" }, key));
            firstBody = await response.Content.ReadAsStringAsync();
        }

        using var after = new ServerFactory(root);
        var again = await after.Client().SendAsync(Post($"/v1/sessions/{id}/turns", new { message = "What does VACUUM do?" }, key));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(firstBody, await again.Content.ReadAsStringAsync());
        Assert.Equal(1, await MessageCount(after.Client(), id));
        after.DeleteFolder();
    }

    [Fact]
    public async Task An_expired_key_is_forgotten()
    {
        var settings = new Dictionary<string, string> { ["ContextCompiler:IdempotencyKeyLifetime"] = "00:00:00.300" };
        using var factory = new ServerFactory(ServerFactory.NewFolder(), settings);
        var client = factory.Client();
        var id = await client.CreateSession();
        string key = NewKey();
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Post($"/v1/sessions/{id}/turns", new { message = "What is WAL?" }, key))).StatusCode);
        await Task.Delay(500);
        var later = await client.SendAsync(Post($"/v1/sessions/{id}/turns", new { message = "What is WAL?" }, key));
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
        Assert.False(later.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(2, await MessageCount(client, id));
        factory.DeleteFolder();
    }

    [Fact]
    public async Task A_write_claiming_a_key_that_another_process_saved_is_rolled_back()
    {
        // Two processes on one file each pass their own in-process queue; the key's primary key must settle it.
        var store = server.Factory.Services.GetRequiredService<SessionStore>();
        var id = await _client.CreateSession();
        var claim = new IdempotencyClaim<Message>("race-" + NewKey(), "fingerprint", TimeSpan.FromHours(1), m => new StoredResponse(201, "{}", null));
        await store.AddMessageAsync("alpha", id, "assistant", "first", null, claim);
        await Assert.ThrowsAsync<IdempotencyKeyTakenException>(() => store.AddMessageAsync("alpha", id, "assistant", "second", null, claim));
        Assert.Equal(["first"], store.Messages("alpha", id).Select(m => m.Content));
    }

    [Fact]
    public async Task A_failed_write_does_not_use_up_its_key()
    {
        var id = await _client.CreateSession();
        string key = NewKey();
        await (await _client.SendAsync(Post($"/v1/sessions/{id}/turns", new { message = "   " }, key))).AssertProblem(400);
        var corrected = await _client.SendAsync(Post($"/v1/sessions/{id}/turns", new { message = "What is WAL?" }, key));
        Assert.Equal(HttpStatusCode.OK, corrected.StatusCode);
        Assert.Equal(1, await MessageCount(_client, id));
    }
}
