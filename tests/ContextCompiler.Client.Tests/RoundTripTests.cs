using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ContextCompiler.Server.Tests;

namespace ContextCompiler.Client.Tests;

/// <summary>Every endpoint through the typed client against the real in-process server.</summary>
public sealed class RoundTripTests(SharedServer server) : IClassFixture<SharedServer>
{
    private readonly IContextCompilerClient _client = server.Client();

    private static string NewUser() => "user-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Health_reports_ok_with_every_vector_filled_in()
    {
        var health = await _client.HealthAsync();

        Assert.Equal("ok", health.Status);
        Assert.True(health.SchemaVersion > 0);
        Assert.False(string.IsNullOrEmpty(health.EmbeddingModel));
        Assert.True(health.Vectors.Total > 0);
        Assert.True(health.Vectors.Complete);
        Assert.Equal(health.Vectors.Total, health.Vectors.Done);
    }

    [Fact]
    public async Task Compile_returns_a_typed_working_set_within_its_budget()
    {
        var set = await _client.CompileAsync(new CompileRequest("How do I enable write-ahead logging?", 400, Explain: true));

        Assert.Equal(400, set.Budget);
        Assert.InRange(set.TokenCount, 1, 400);
        Assert.NotEmpty(set.Citations);
        Assert.Equal(Enumerable.Range(1, set.Citations.Count), set.Citations.Select(c => c.N));
        Assert.Contains(set.Citations, c => c.Path.EndsWith("wal.md", StringComparison.Ordinal));
        Assert.All(set.Citations, c => Assert.True(c.StartLine >= 1 && c.EndLine >= c.StartLine));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(set.Text))), set.Manifest.ContextHash);
        Assert.Equal(JsonValueKind.Object, set.Manifest.Config.ValueKind);
        Assert.NotNull(set.Explain);
        Assert.Contains(set.Explain.Candidates, c => c.Outcome == "included");
    }

    [Fact]
    public async Task A_session_goes_through_every_endpoint_and_its_replay_keeps_the_turn_bytes()
    {
        using var metadata = JsonDocument.Parse("""{"channel":"web","tags":[1,2]}""");
        string user = NewUser();
        var created = await _client.CreateSessionAsync(new CreateSessionRequest(user, metadata.RootElement, new SessionBudgets(ContextBudget: 500, HistoryBudget: 300)));
        Assert.Equal("open", created.Status);
        Assert.Equal(user, created.UserId);
        Assert.True(JsonElement.DeepEquals(metadata.RootElement, created.Metadata!.Value));
        Assert.Equal(new SessionBudgets(500, 300), created.DefaultBudgets);

        var fetched = await _client.GetSessionAsync(created.Id);
        Assert.Equal(created with { Metadata = null }, fetched with { Metadata = null });
        Assert.True(JsonElement.DeepEquals(metadata.RootElement, fetched.Metadata!.Value));

        var turn = await _client.TakeTurnAsync(created.Id, new TurnRequest("How do I enable write-ahead logging?"));
        Assert.Equal("How do I enable write-ahead logging?", turn.UserMessage.Content);
        Assert.Equal(MessageRoles.User, turn.UserMessage.Role);
        Assert.Equal(500, turn.ContextBudget);
        Assert.Equal(turn.WorkingSet.Value.TokenCount, turn.ContextTokens);
        Assert.Equal(turn.ContextTokens + turn.HistoryTokens, turn.TotalTokens);
        Assert.NotEmpty(turn.WorkingSet.Value.Citations);

        var answer = await _client.AddMessageAsync(created.Id, new AddMessageRequest(MessageRoles.Assistant, "Run PRAGMA journal_mode=WAL [1]. See also [99]."));
        Assert.Equal(2, answer.Sequence);
        Assert.NotNull(answer.CitationCheck);
        Assert.Equal([1], answer.CitationCheck.Used);
        Assert.Equal([99], answer.CitationCheck.Unknown);

        var history = await _client.GetHistoryAsync(created.Id);
        Assert.Equal([turn.UserMessage.Id, answer.Id], history.Messages.Select(m => m.Id));
        Assert.Contains("Run PRAGMA journal_mode=WAL", history.Text, StringComparison.Ordinal);
        Assert.True(history.TokenCount > 0);

        var replay = await _client.ReplayAsync(created.Id);
        var replayed = Assert.Single(replay.Turns);
        Assert.Equal(turn.UserMessage.Id, replayed.UserMessage!.Id);
        Assert.Equal(turn.WorkingSet.Json, replayed.WorkingSet!.Json);
        Assert.Equal(answer.Id, replayed.AssistantMessage!.Id);
        Assert.Equal(2, replay.Session.MessageCount);

        var report = await _client.RecompileAsync(created.Id);
        Assert.Equal(created.Id, report.SessionId);
        var recompiled = Assert.Single(report.Turns);
        Assert.Equal(turn.UserMessage.Id, recompiled.MessageId);
        Assert.Equal(turn.WorkingSet.Value.Manifest.ContextHash, recompiled.StoredContextHash);
        Assert.True(recompiled.Identical);
        Assert.Equal(1, report.Summary.Identical);

        var closed = await _client.CloseSessionAsync(created.Id);
        Assert.Equal("closed", closed.Status);

        await _client.DeleteSessionAsync(created.Id);
        var gone = await Assert.ThrowsAsync<NotFoundException>(() => _client.GetSessionAsync(created.Id));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Recompile_with_a_smaller_budget_reports_it_and_the_token_delta()
    {
        var session = await _client.CreateSessionAsync();
        var turn = await _client.TakeTurnAsync(session.Id, new TurnRequest("How does a checkpoint move WAL content back into the database?", ContextBudget: 600));

        var report = await _client.RecompileAsync(session.Id, new RecompileRequest(Budget: 100));

        var recompiled = Assert.Single(report.Turns);
        Assert.Equal(100, report.Budget);
        Assert.Equal(600, recompiled.StoredBudget);
        Assert.Equal(turn.ContextTokens, recompiled.StoredTokens);
        Assert.InRange(recompiled.NewTokens, 0, 100);
        Assert.Equal(recompiled.NewTokens - recompiled.StoredTokens, recompiled.TokenDelta);
        Assert.False(recompiled.Identical);
    }

    [Fact]
    public async Task List_filters_by_user_and_pages()
    {
        string user = NewUser();
        var first = await _client.CreateSessionAsync(new CreateSessionRequest(user));
        var second = await _client.CreateSessionAsync(new CreateSessionRequest(user));
        await _client.CreateSessionAsync(new CreateSessionRequest(NewUser()));

        var page = await _client.ListSessionsAsync(new SessionQuery(UserId: user, OrderBy: "createdAt", Direction: "asc", Limit: 1));
        var next = await _client.ListSessionsAsync(new SessionQuery(UserId: user, OrderBy: "createdAt", Direction: "asc", Limit: 1, Offset: 1));

        Assert.Equal(2, page.Total);
        Assert.Equal(first.Id, Assert.Single(page.Items).Id);
        Assert.Equal(second.Id, Assert.Single(next.Items).Id);
    }

    [Fact]
    public async Task List_filters_by_status_and_by_creation_time_with_an_offset()
    {
        string user = NewUser();
        var open = await _client.CreateSessionAsync(new CreateSessionRequest(user));
        var closed = await _client.CreateSessionAsync(new CreateSessionRequest(user));
        await _client.CloseSessionAsync(closed.Id);
        // A "+02:00" offset reaches the server only if the query string escapes its '+'.
        var soon = DateTimeOffset.UtcNow.AddMinutes(1).ToOffset(TimeSpan.FromHours(2));

        var openOnes = await _client.ListSessionsAsync(new SessionQuery(UserId: user, Status: "open"));
        var before = await _client.ListSessionsAsync(new SessionQuery(UserId: user, CreatedBefore: soon));
        var after = await _client.ListSessionsAsync(new SessionQuery(UserId: user, CreatedAfter: soon));

        Assert.Equal(open.Id, Assert.Single(openOnes.Items).Id);
        Assert.Equal(2, before.Total);
        Assert.Equal(0, after.Total);
    }

    [Fact]
    public async Task History_keeps_only_the_newest_messages_that_fit()
    {
        var session = await _client.CreateSessionAsync();
        await _client.TakeTurnAsync(session.Id, new TurnRequest("What is an upsert?", ContextBudget: 200));
        var last = await _client.AddMessageAsync(session.Id, new AddMessageRequest(MessageRoles.Assistant, "An INSERT with ON CONFLICT DO UPDATE."));

        var all = await _client.GetHistoryAsync(session.Id);
        var newest = await _client.GetHistoryAsync(session.Id, maxTokens: all.TokenCount - 1);

        Assert.Equal(2, all.Messages.Count);
        Assert.Equal(last.Id, Assert.Single(newest.Messages).Id);
        Assert.True(newest.TokenCount < all.TokenCount);
    }
}
