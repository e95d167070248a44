using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ContextCompiler.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.Storage.Postgres.Tests;

/// <summary>
/// The whole service with <c>ContextCompiler:Storage:Provider=postgres</c>: two servers (replicas) on one PGlite database,
/// each a real Kestrel on a loopback port. The first starts on the empty database, migrates it, ingests a small corpus
/// once and fills its vectors; then a chatbot's loop runs against one replica and is read back through the other.
/// </summary>
public sealed class ServerOnPostgresTests(PgliteServer pglite) : IClassFixture<PgliteServer>, IAsyncLifetime
{
    private const string ApiKey = "key-pg";
    private static readonly string[] CorpusFiles = ["wal.md", "pragma.md", "lang_transaction.md"];
    private readonly string _folder = Directory.CreateTempSubdirectory("contextc-pg-server-").FullName;
    private readonly List<WebApplication> _apps = [];

    [PgliteFact]
    public async Task A_turn_its_reply_and_a_document_written_through_one_replica_read_back_exactly_through_another()
    {
        using var first = await StartAsync();
        await WaitForVectorsAsync(first);
        using var second = await StartAsync();

        var ready = await second.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using (var health = JsonDocument.Parse(await second.GetStringAsync("/health")))
        {
            Assert.Equal(PostgresDatabase.Migrations.Count, health.RootElement.GetProperty("schemaVersion").GetInt32());
            Assert.True(health.RootElement.GetProperty("vectors").GetProperty("complete").GetBoolean());
        }

        // A session through the first replica: a turn, the assistant's reply, a follow-up. (JSON over HTTP carries NUL;
        // a lone surrogate cannot be JSON text at all, so the stores' own tests cover that.)
        var created = await first.PostAsJsonAsync("/v1/sessions", new { userId = "u\u0000x" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        string session = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var turn = await first.PostAsJsonAsync($"/v1/sessions/{session}/turns", new { message = "How do I enable write-ahead logging?", totalBudget = 1500 });
        string turnBody = await turn.Content.ReadAsStringAsync();
        Assert.True(turn.IsSuccessStatusCode, turnBody);
        using var turnJson = JsonDocument.Parse(turnBody);
        var workingSet = turnJson.RootElement.GetProperty("workingSet");
        Assert.Contains(workingSet.GetProperty("citations").EnumerateArray(), c => c.GetProperty("path").GetString() == "wal.md");
        var coverage = workingSet.GetProperty("manifest").GetProperty("vectorCoverage");
        Assert.Equal(coverage.GetProperty("spans").GetInt32(), coverage.GetProperty("withVectors").GetInt32());
        var said = await first.PostAsJsonAsync($"/v1/sessions/{session}/messages", new { role = "assistant", content = "Run PRAGMA journal_mode=WAL [1]." });
        Assert.Equal(HttpStatusCode.Created, said.StatusCode);
        var followUp = await first.PostAsJsonAsync($"/v1/sessions/{session}/turns", new { message = "Can I undo that later?", totalBudget = 1500 });
        Assert.True(followUp.IsSuccessStatusCode, await followUp.Content.ReadAsStringAsync());

        // The second replica replays it byte for byte, with the working set exactly as the turn returned it.
        string replayFirst = await first.GetStringAsync($"/v1/sessions/{session}/replay");
        string replaySecond = await second.GetStringAsync($"/v1/sessions/{session}/replay");
        Assert.Equal(replayFirst, replaySecond);
        using var replay = JsonDocument.Parse(replaySecond);
        var turns = replay.RootElement.GetProperty("turns");
        Assert.Equal(2, turns.GetArrayLength());
        Assert.Equal(workingSet.GetRawText(), turns[0].GetProperty("workingSet").GetRawText());
        Assert.Equal([1, 2, 3], turns.EnumerateArray().SelectMany(t => new[] { t.GetProperty("userMessage"), t.GetProperty("assistantMessage") })
            .Where(m => m.ValueKind == JsonValueKind.Object).Select(m => m.GetProperty("sequence").GetInt32()));
        using (var sessionJson = JsonDocument.Parse(await second.GetStringAsync($"/v1/sessions/{session}")))
        {
            Assert.Equal("u\u0000x", sessionJson.RootElement.GetProperty("userId").GetString());
        }

        // A document PUT through the second replica is retrievable through the first at once, and comes back exactly.
        Assert.Equal(HttpStatusCode.Created, (await second.PostAsJsonAsync("/v1/corpora", new { name = "notes" })).StatusCode);
        string text = "# Quokkas\n\nThe quokka keeps a journal\u0000 of checkpoints.\n";
        var put = await second.PutAsync("/v1/corpora/notes/documents/quokka.md", new StringContent(JsonSerializer.Serialize(new { text, mediaType = "text/markdown" }), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var stored = await first.GetFromJsonAsync<JsonElement>("/v1/corpora/notes/documents/quokka.md");
        Assert.Equal(text, stored.GetProperty("text").GetString());
        var compiled = await first.PostAsJsonAsync("/v1/compile", new { query = "quokka journal", budget = 300, corpus = "notes" });
        string compiledBody = await compiled.Content.ReadAsStringAsync();
        Assert.True(compiled.IsSuccessStatusCode, compiledBody);
        Assert.Contains("pg/notes", compiledBody, StringComparison.Ordinal);
        Assert.Contains("quokka.md", compiledBody, StringComparison.Ordinal);

        // Signed in to the web pages through one replica, the browser's cookie is honoured by the other: the Data
        // Protection key ring is in the database.
        using var browser = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = first.BaseAddress };
        var login = await browser.GetAsync("/ui/login");
        string form = await login.Content.ReadAsStringAsync();
        var token = System.Text.RegularExpressions.Regex.Match(form, "name=\"([^\"]*RequestVerificationToken[^\"]*)\"[^>]*value=\"([^\"]+)\"");
        Assert.True(token.Success, form);
        using var post = new HttpRequestMessage(HttpMethod.Post, "/ui/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                [WebUtility.HtmlDecode(token.Groups[1].Value)] = WebUtility.HtmlDecode(token.Groups[2].Value),
                ["apiKey"] = ApiKey,
            }),
        };
        post.Headers.Add("Cookie", string.Join("; ", login.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0])));
        var signedIn = await browser.SendAsync(post);
        Assert.True((int)signedIn.StatusCode is >= 200 and < 400, await signedIn.Content.ReadAsStringAsync());
        string cookie = signedIn.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Single(c => c.StartsWith("contextc-ui=", StringComparison.Ordinal));
        foreach (var replica in new[] { first, second })
        {
            using var page = new HttpRequestMessage(HttpMethod.Get, new Uri(replica.BaseAddress!, "/ui/sessions"));
            page.Headers.Add("Cookie", cookie);
            var sessions = await browser.SendAsync(page);
            Assert.Equal(HttpStatusCode.OK, sessions.StatusCode);
            Assert.Contains(session, await sessions.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The key that signed it is in the database, not in a folder of this machine (which both replicas could share here).
        await using (var database = pglite.NewDatabase())
        await using (var count = database.DataSource.CreateCommand("SELECT count(*) FROM data_protection_keys"))
        {
            Assert.True((long)(await count.ExecuteScalarAsync())! >= 1);
        }

        // A stored manifest that names FTS5 cannot run here, and says so.
        var fts5 = await first.PostAsJsonAsync("/v1/compile", new { query = "WAL", budget = 300, options = new Dictionary<string, object> { ["lexical"] = "fts5" } });
        Assert.Equal(HttpStatusCode.BadRequest, fts5.StatusCode);
        Assert.Contains("fts5", await fts5.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task<HttpClient> StartAsync()
    {
        var corpus = Path.Combine(_folder, "sqlite-docs");
        if (!Directory.Exists(corpus))
        {
            Directory.CreateDirectory(corpus);
            foreach (var file in CorpusFiles)
            {
                File.Copy(Path.Combine(Engine.Assets.RepositoryLayout.DefaultCorpus()!, file), Path.Combine(corpus, file));
            }
        }

        var app = ServerApp.Build(
            ["--urls", "http://127.0.0.1:0", "--ContextCompiler:Storage:Provider=postgres", $"--ContextCompiler:Storage:ConnectionString={pglite.ConnectionString}",
             $"--ContextCompiler:ApiKeys:{ApiKey}=pg"],
            o =>
            {
                o.CorpusPath = corpus;
                // The cache the other test projects share: these pages' passages are usually embedded already.
                o.EmbeddingCachePath = Path.Combine(Path.GetTempPath(), "contextc-test-embedding-cache.db");
            });
        _apps.Add(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        return client;
    }

    private static async Task WaitForVectorsAsync(HttpClient client)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (true)
        {
            using var health = JsonDocument.Parse(await client.GetStringAsync("/health"));
            if (health.RootElement.GetProperty("vectors").GetProperty("complete").GetBoolean())
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "The vectors did not fill in within 3 minutes: " + health.RootElement.GetRawText());
            await Task.Delay(200);
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
