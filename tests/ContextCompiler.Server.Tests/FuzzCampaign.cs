using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Sessions;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Server.Tests;

/// <summary>What one fuzzed request got back.</summary>
/// <param name="Sent">The request as sent, with its session id filled in.</param>
/// <param name="Status">The status, or null when sending threw (the exception is in <paramref name="Body"/>).</param>
/// <param name="IsProblem">For an error status: whether the body is application/problem+json with that status and a detail.</param>
/// <param name="Wrote">For an error status: whether the database changed anyway.</param>
public sealed record FuzzExchange(FuzzRequest Request, string Sent, int? Status, string? MediaType, string Body, bool IsProblem, bool Wrote)
{
    /// <summary>A 5xx, or a request the server failed to answer at all.</summary>
    public bool IsServerError => Status is null or >= 500;

    /// <summary>The request and the answer, for a failure message.</summary>
    public override string ToString()
    {
        string body = string.Join(' ', Body.Split((char[])['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return $"{Sent}\n    -> {(Status is { } s ? s.ToString(CultureInfo.InvariantCulture) : "exception")} {MediaType} {(body.Length > 300 ? body[..300] + "…" : body)}";
    }
}

/// <summary>
/// One fuzzing campaign against a real server, run once for the tests of <see cref="FuzzTests"/>, which each check one
/// property of its results. Before fuzzing it builds a witness session (turns, messages, metadata) under a tenant whose
/// key the fuzzer never sends, and records its replay; then it sends the FsCheck-generated requests one at a time,
/// noting after each error whether the database changed; finally it records the witness again.
/// </summary>
/// <remarks>
/// CONTEXTC_FUZZ_REQUESTS sets how many generated requests are sent (default 800) after the few fixed
/// <see cref="FuzzGenerators.Regressions"/>; CONTEXTC_FUZZ_SEED replays a campaign.
/// The requests are drawn from the generators with <see cref="Gen.Sample{T}(Gen{T}, int, Rnd, int)"/> rather than run
/// as a <c>Prop.ForAll</c>, so that every request is sent and counted instead of stopping at the first failure.
/// </remarks>
public sealed class FuzzCampaign : IAsyncLifetime
{
    public const string WitnessKey = "key-witness";
    public const string WitnessTenant = "witness";
    private const int DefaultRequests = 800;

    private readonly ServerFactory _factory = new();
    private readonly List<FuzzExchange> _exchanges = [];
    private WebApplicationFactory<ServerProgram>? _app;
    private HttpClient _client = null!;
    private SessionStore _store = null!;
    private TurnService _turns = null!;
    private IndexStore _index = null!;
    private readonly Dictionary<FuzzTarget, string> _ids = [];

    /// <summary>The seed of the generated requests; CONTEXTC_FUZZ_SEED=this value sends the same ones again.</summary>
    public ulong Seed { get; private set; }

    public IReadOnlyList<FuzzExchange> Exchanges => _exchanges;

    /// <summary>The witness's session, replay, history and listing, as bytes, before and after the fuzzing.</summary>
    public IReadOnlyList<(string Path, byte[] Body)> WitnessBefore { get; private set; } = [];

    public IReadOnlyList<(string Path, byte[] Body)> WitnessAfter { get; private set; } = [];

    /// <summary>One line for benchmarks/RESULTS.md: how many requests, how many 5xx, and the other failures.</summary>
    public string Summary
    {
        get
        {
            var statuses = string.Join(" ", _exchanges.GroupBy(e => e.Status?.ToString(CultureInfo.InvariantCulture) ?? "exception").OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => $"{g.Key}×{g.Count()}"));
            return $"fuzz: {_exchanges.Count} requests sent (seed {Seed}), {_exchanges.Count(e => e.IsServerError)} answered 5xx, " +
                $"{_exchanges.Count(e => e.Status >= 400 && !e.IsProblem)} errors not problem+json, {_exchanges.Count(e => e.Wrote)} refused but wrote; statuses {statuses}";
        }
    }

    public async Task InitializeAsync()
    {
        _app = _factory.WithWebHostBuilder(b => b.UseSetting("ContextCompiler:ApiKeys:" + WitnessKey, WitnessTenant));
        _client = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        _store = _app.Services.GetRequiredService<SessionStore>();
        _turns = _app.Services.GetRequiredService<TurnService>();
        _index = SqliteStore.Of(_app.Services).Index;

        string witness = await CreateWitnessAsync();
        _ids[FuzzTarget.Witness] = witness;
        WitnessBefore = await SnapshotAsync(witness);
        await KeepScratchSessionsAsync();

        int count = int.TryParse(Environment.GetEnvironmentVariable("CONTEXTC_FUZZ_REQUESTS"), CultureInfo.InvariantCulture, out int n) && n > 0 ? n : DefaultRequests;
        Seed = ulong.TryParse(Environment.GetEnvironmentVariable("CONTEXTC_FUZZ_SEED"), CultureInfo.InvariantCulture, out ulong s) ? s : (ulong)Random.Shared.NextInt64();
        var requests = FuzzGenerators.Regressions.Concat(FuzzGenerators.Request.Sample(count, new Rnd(Seed), 20));
        string state = Fingerprint();
        foreach (var request in requests)
        {
            var exchange = await SendAsync(request, state);
            _exchanges.Add(exchange);
            await KeepScratchSessionsAsync();
            state = Fingerprint();
        }

        WitnessAfter = await SnapshotAsync(witness);
    }

    public Task DisposeAsync()
    {
        _client.Dispose();
        _factory.Dispose();
        _factory.DeleteFolder();
        return Task.CompletedTask;
    }

    private async Task<FuzzExchange> SendAsync(FuzzRequest request, string stateBefore)
    {
        string id = request.Target == FuzzTarget.Literal ? request.LiteralId : _ids[request.Target];
        string sent = request.Path.Contains("{id}", StringComparison.Ordinal) ? $"[{request.Target}] {request.Describe(id)}" : request.Describe(id);
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Path.Replace("{id}", id, StringComparison.Ordinal) + request.Query);
        if (request.Body is not null || request.ContentType is not null)
        {
            message.Content = new ByteArrayContent(request.Body ?? []);
            if (request.ContentType is not null)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
            }
        }

        foreach (var (name, value) in request.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        try
        {
            using var response = await _client.SendAsync(message);
            int status = (int)response.StatusCode;
            string? mediaType = response.Content.Headers.ContentType?.MediaType;
            string body = await response.Content.ReadAsStringAsync();
            bool error = status >= 400;
            return new FuzzExchange(request, sent, status, mediaType, body,
                IsProblem: !error || IsProblem(status, mediaType, body, request.Method == "HEAD"),
                Wrote: error && Fingerprint() != stateBefore);
        }
        catch (Exception e)
        {
            // The test server hands an exception that escaped the pipeline to the client; it is a 5xx on a real host.
            return new FuzzExchange(request, sent, null, null, e.ToString(), IsProblem: false, Wrote: Fingerprint() != stateBefore);
        }
    }

    private static bool IsProblem(int status, string? mediaType, string body, bool head)
    {
        if (mediaType != "application/problem+json")
        {
            return false;
        }

        if (head)
        {
            // A HEAD answer has headers only.
            return true;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt32(out int value) && value == status
                && root.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(d.GetString());
        }
        catch (JsonException)
        {
            return false;
        }
    }

    // Everything a request could write: sessions, their status and counts, messages, working sets, and the latest change.
    private string Fingerprint()
    {
        using var lease = _index.Rent();
        using var command = lease.Connection.CreateCommand();
        command.CommandText = """
            SELECT (SELECT COUNT(*) FROM sessions) || '|' || (SELECT COUNT(*) FROM sessions WHERE status = 'open') || '|' ||
                   (SELECT COALESCE(SUM(message_count), 0) FROM sessions) || '|' || (SELECT COUNT(*) FROM messages) || '|' ||
                   (SELECT COUNT(*) FROM working_sets) || '|' || (SELECT COALESCE(MAX(updated_at), '') FROM sessions)
            """;
        return (string)command.ExecuteScalar()!;
    }

    private async Task<string> CreateWitnessAsync()
    {
        using var witness = _app!.CreateClient();
        witness.DefaultRequestHeaders.Add("X-Api-Key", WitnessKey);
        string id = await witness.CreateSession(new
        {
            userId = "witness-😀-\0-" + new string('w', 600),
            metadata = new { note = "made before the fuzzing", numbers = new object[] { 1, 2.5, "\0", "𝄞" } },
            defaultBudgets = new { totalBudget = 1200 },
        });
        await witness.Turn(id, "How do I enable WAL mode?");
        await witness.Say(id, "assistant", "Use PRAGMA journal_mode=WAL; 😀\0 done.");
        var tool = await witness.PostAsJsonAsync($"/v1/sessions/{id}/messages", new { role = "tool", content = "journal_mode: wal", metadata = new { exitCode = 0 } });
        tool.EnsureSuccessStatusCode();
        await witness.Turn(id, "Can I undo that later?");
        return id;
    }

    private async Task<IReadOnlyList<(string Path, byte[] Body)>> SnapshotAsync(string id)
    {
        var snapshot = new List<(string, byte[])>();
        foreach (var path in new[] { $"/v1/sessions/{id}", $"/v1/sessions/{id}/replay", $"/v1/sessions/{id}/history", "/v1/sessions" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("X-Api-Key", WitnessKey);
            using var response = await _client.SendAsync(request);
            snapshot.Add(($"{path} -> {(int)response.StatusCode}", await response.Content.ReadAsByteArrayAsync()));
        }

        return snapshot;
    }

    // The fuzzer deletes and closes its sessions; replacing them keeps later requests reaching live sessions of each kind.
    private async Task KeepScratchSessionsAsync()
    {
        await Keep(FuzzTarget.AlphaOpen, "alpha", SessionStatus.Open);
        await Keep(FuzzTarget.BetaOpen, "beta", SessionStatus.Open);
        await Keep(FuzzTarget.AlphaClosed, "alpha", SessionStatus.Closed);

        async Task Keep(FuzzTarget target, string tenant, string status)
        {
            if (_ids.TryGetValue(target, out var id))
            {
                try
                {
                    if (_store.Get(tenant, id).Status == status)
                    {
                        return;
                    }
                }
                catch (SessionNotFoundException)
                {
                    // Deleted by the fuzzer: make another below.
                }
            }

            using var metadata = JsonDocument.Parse("{\"scratch\":true}");
            var session = _store.Create(tenant, new NewSession(Metadata: metadata.RootElement));
            await _turns.TakeTurnAsync(tenant, session.Id, new TurnRequest("How do I enable WAL mode?", new SessionBudgets(ContextBudget: 300, HistoryBudget: 100)));
            await _store.AddMessageAsync(tenant, session.Id, MessageRoles.Assistant, "Use PRAGMA journal_mode=WAL.", null);
            if (status == SessionStatus.Closed)
            {
                _store.Close(tenant, session.Id);
            }

            _ids[target] = session.Id;
        }
    }
}
