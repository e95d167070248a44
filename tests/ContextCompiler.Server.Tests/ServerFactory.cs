using System.Net.Http.Json;
using System.Text.Json;
using ContextCompiler.Server;
using ContextCompiler.Engine;
using ContextCompiler.Engine.Sessions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;

namespace ContextCompiler.Server.Tests;

/// <summary>
/// The real server over a real SQLite file in a temporary folder, with a small copy of the sqlite-docs corpus ingested at
/// start. Two API keys map to tenants "alpha" and "beta". Every client it creates checks each response against the
/// published OpenAPI document (<see cref="OpenApiContractHandler"/>), so the document cannot drift from what is sent.
/// </summary>
public sealed class ServerFactory : WebApplicationFactory<ServerProgram>
{
    public const string AlphaKey = "key-alpha";
    public const string BetaKey = "key-beta";
    public const long MaxBodyBytes = 64 * 1024;
    public const int MaxBudget = 20_000;
    public const int MaxOpenPerUser = 3;

    private readonly Lazy<Task<OpenApiContract>> _contract;
    private int _checkedResponses;

    // wal.md answers the follow-up test; the others give retrieval something to choose between.
    private static readonly string[] CorpusFiles = ["wal.md", "pragma.md", "lang_upsert.md", "lang_transaction.md", "foreignkeys.md"];

    public ServerFactory()
        : this(NewFolder())
    {
    }

    /// <summary>
    /// A server over the database in <paramref name="root"/>, which may already hold an index and sessions.
    /// <paramref name="settings"/> (configuration keys such as <c>ContextCompiler:RateLimit:Enabled</c>) are applied last;
    /// <paramref name="services"/> runs after the server's own registrations (a test's telemetry exporter, an extra check).
    /// </summary>
    public ServerFactory(string root, IReadOnlyDictionary<string, string>? settings = null, Action<IServiceCollection>? services = null)
    {
        Root = root;
        _settings = settings ?? new Dictionary<string, string>();
        _services = services;
        Corpus = Path.Combine(root, "sqlite-docs");
        DatabasePath = Path.Combine(root, "server.db");
        if (!Directory.Exists(Corpus))
        {
            Directory.CreateDirectory(Corpus);
            var source = Path.Combine(RepositoryRoot(), "corpora", "sqlite-docs");
            foreach (var file in CorpusFiles)
            {
                File.Copy(Path.Combine(source, file), Path.Combine(Corpus, file));
            }
        }

        // Fetched by a client without the check, once the first response needs it.
        _contract = new(async () =>
        {
            using var client = base.CreateDefaultClient();
            return new OpenApiContract(await client.GetStringAsync(OpenApiContract.DocumentPath));
        });
    }

    private readonly IReadOnlyDictionary<string, string> _settings;
    private readonly Action<IServiceCollection>? _services;

    public string Root { get; }

    public string Corpus { get; }

    public string DatabasePath { get; }

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>How many responses were checked against the OpenAPI document so far.</summary>
    public int CheckedResponses => Volatile.Read(ref _checkedResponses);

    /// <summary>The published OpenAPI document as a response checker.</summary>
    public Task<OpenApiContract> Contract() => _contract.Value;

    /// <summary>
    /// A second engine over the database at <paramref name="path"/>, with connections of its own (as after a restart),
    /// wired by the same composition root as the server. The caller disposes it.
    /// </summary>
    public static ServiceProvider Engine(string path, SessionStoreOptions? sessions = null, TimeProvider? clock = null) =>
        new ServiceCollection()
            .AddSingleton(clock ?? TimeProvider.System)
            .AddContextCompiler(new ContextCompilerOptions { DatabasePath = path, EmbeddingCachePath = SharedEmbeddingCache, Sessions = sessions ?? new() })
            .BuildServiceProvider();

    /// <summary>The passage-embedding cache shared by the test servers of this machine.</summary>
    public static string SharedEmbeddingCache { get; } = Path.Combine(Path.GetTempPath(), "contextc-test-embedding-cache.db");

    public static string NewFolder() => Directory.CreateTempSubdirectory("contextc-server-test-").FullName;

    public HttpClient Client(string? apiKey = AlphaKey)
    {
        var client = CreateClient();
        WaitForVectors(client);
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }

        return client;
    }

    /// <summary>
    /// A client for the web pages under /ui, which answer HTML that the OpenAPI document does not describe: it skips the
    /// contract check, keeps cookies (the sign-in and antiforgery cookies) and does not follow redirects, so a test sees them.
    /// </summary>
    public HttpClient UiClient(string? apiKey = null)
    {
        _ = Client(null);
        var client = base.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }

        return client;
    }

    private bool _vectorsReady;

    // The server answers at once with lexical retrieval and embeds its spans in the background; tests compare working
    // sets, so they start once every span has its vector (a few seconds for the test corpus, less with the shared cache).
    private void WaitForVectors(HttpClient client)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!_vectorsReady)
        {
            using var health = JsonDocument.Parse(client.GetStringAsync("/health").GetAwaiter().GetResult());
            _vectorsReady = health.RootElement.GetProperty("vectors").GetProperty("complete").GetBoolean();
            if (!_vectorsReady)
            {
                if (clock.Elapsed > TimeSpan.FromMinutes(3))
                {
                    throw new TimeoutException("The test server's vectors did not fill in within 3 minutes: " + health.RootElement.GetRawText());
                }

                Thread.Sleep(100);
            }
        }
    }

    // These hide the factory's own client makers (they are not virtual) so that every client made through a ServerFactory
    // checks its responses; the checker is the innermost handler, so it sees every response, redirects included. Clients
    // made through a WebApplicationFactory reference or WithWebHostBuilder would not check, so the tests use neither.
    public new HttpClient CreateClient() => CreateClient(ClientOptions);

    public new HttpClient CreateClient(WebApplicationFactoryClientOptions options)
    {
        var handlers = new List<DelegatingHandler>();
        if (options.AllowAutoRedirect)
        {
            handlers.Add(new RedirectHandler(options.MaxAutomaticRedirections));
        }

        if (options.HandleCookies)
        {
            handlers.Add(new CookieContainerHandler());
        }

        return CreateDefaultClient(options.BaseAddress, [.. handlers]);
    }

    public new HttpClient CreateDefaultClient(params DelegatingHandler[] handlers) => base.CreateDefaultClient([.. handlers, ContractHandler()]);

    public new HttpClient CreateDefaultClient(Uri baseAddress, params DelegatingHandler[] handlers) => base.CreateDefaultClient(baseAddress, [.. handlers, ContractHandler()]);

    private OpenApiContractHandler ContractHandler() => new(Contract, () => Interlocked.Increment(ref _checkedResponses));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ContextCompiler:DatabasePath", DatabasePath);
        builder.UseSetting("ContextCompiler:CorpusPath", Corpus);
        // One cache for every test server: each embeds the same few pages, so only the first pays for the model runs.
        builder.UseSetting("ContextCompiler:EmbeddingCachePath", SharedEmbeddingCache);
        builder.UseSetting("ContextCompiler:ApiKeys:" + AlphaKey, "alpha");
        builder.UseSetting("ContextCompiler:ApiKeys:" + BetaKey, "beta");
        builder.UseSetting("ContextCompiler:MaxRequestBodyBytes", MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("ContextCompiler:Sessions:MaxBudget", MaxBudget.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("ContextCompiler:Sessions:MaxOpenSessionsPerUser", MaxOpenPerUser.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        if (_services is not null)
        {
            builder.ConfigureServices(_services);
        }
    }

    public static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "ContextCompiler.sln")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? throw new InvalidOperationException("Cannot find the repository root above " + AppContext.BaseDirectory);
    }

    public void DeleteFolder()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; failing the test for it would hide the real result.
        }
    }
}

/// <summary>One server shared by a test class; each test makes its own sessions.</summary>
public sealed class SharedServer : IDisposable
{
    public ServerFactory Factory { get; } = new();

    public void Dispose()
    {
        Factory.Dispose();
        Factory.DeleteFolder();
    }
}

/// <summary>Small helpers over the HTTP API.</summary>
public static class Api
{
    public static async Task<JsonElement> Json(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    public static async Task<string> CreateSession(this HttpClient client, object? body = null)
    {
        var response = await client.PostAsJsonAsync("/v1/sessions", body ?? new { });
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Json()).GetProperty("id").GetString()!;
    }

    public static async Task<JsonElement> Turn(this HttpClient client, string session, string message, object? budgets = null)
    {
        var body = new Dictionary<string, object?> { ["message"] = message };
        if (budgets is not null)
        {
            foreach (var p in budgets.GetType().GetProperties())
            {
                body[p.Name] = p.GetValue(budgets);
            }
        }

        var response = await client.PostAsJsonAsync($"/v1/sessions/{session}/turns", body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return await response.Json();
    }

    public static async Task Say(this HttpClient client, string session, string role, string content)
    {
        var response = await client.PostAsJsonAsync($"/v1/sessions/{session}/messages", new { role, content });
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
    }

    /// <summary>Asserts an RFC 7807 problem with <paramref name="status"/> and a detail.</summary>
    public static async Task<JsonElement> AssertProblem(this HttpResponseMessage response, int status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"Expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(text);
        var problem = document.RootElement.Clone();
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        return problem;
    }
}
