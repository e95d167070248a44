using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using ContextCompiler.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace ContextCompiler.Ui.Tests;

/// <summary>
/// The real server on a loopback port (Kestrel, real sockets: a browser cannot reach the in-memory test server) over a
/// fresh SQLite file in a temporary folder with a few sqlite-docs pages, two API keys, one seeded session of three turns,
/// and a Chromium (see <see cref="BrowserLocator"/>) driven by Playwright. Shared by every test in the collection; disposed after the last one.
/// </summary>
/// <param name="diagnostics">xunit's diagnostic sink: a run without a browser says once, at the default verbosity, why its
/// browser tests were skipped and how to install one (each skipped test carries the same reason).</param>
public sealed class BrowserFixture(IMessageSink diagnostics) : IAsyncLifetime
{
    public const string AlphaKey = "key-alpha";
    public const string BetaKey = "key-beta";

    /// <summary>The seeded user; the session list can be filtered by it.</summary>
    public const string SeededUser = "ui-evaluator";

    /// <summary>A marker that no working set has; the replay page must flag it.</summary>
    public const string UnknownMarker = "[99]";

    // wal.md answers the questions; the others give retrieval something to choose between.
    private static readonly string[] CorpusFiles = ["wal.md", "pragma.md", "lang_upsert.md", "lang_transaction.md", "foreignkeys.md"];

    /// <summary>The seeded turns' user messages, in order (turn 1 first).</summary>
    public static IReadOnlyList<string> Questions { get; } =
    [
        "How do I enable write-ahead logging?",
        "What happens to readers during a checkpoint?",
        "How does an upsert handle a uniqueness conflict?",
    ];

    private string? _folder;
    private WebApplication? _app;
    private IPlaywright? _playwright;

    public Uri Address { get; private set; } = null!;

    /// <summary>The server's copy of the corpus; citations' paths are relative to it.</summary>
    public string CorpusFolder { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>The seeded session's id.</summary>
    public string SessionId { get; private set; } = null!;

    /// <summary>The stored turn replies (one JSON object per turn, as <c>POST /turns</c> answered), in order.</summary>
    public IReadOnlyList<JsonElement> Turns { get; private set; } = [];

    /// <summary>Each turn's number, 1, 2, 3…: the pages name a turn by it (turn-{n}, t{n}-c{k}, /turns/{n}/why), not by its
    /// user message's sequence (1, 3, 5… here, since every turn is answered).</summary>
    public IReadOnlyList<int> Seqs => [.. Enumerable.Range(1, Turns.Count)];

    /// <summary>The assistant replies, in order.</summary>
    public IReadOnlyList<string> Replies { get; private set; } = [];

    /// <summary>A client with the alpha key, for API calls from the tests.</summary>
    public HttpClient Api { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var browser = BrowserLocator.Current;
        if (!browser.Found)
        {
            // Without a browser every test here is skipped (BrowserFact), so nothing is started; under CI they run and fail.
            if (BrowserLocator.MustRun)
            {
                throw new InvalidOperationException("CI=true, so the browser tests must run. " + browser.Reason);
            }

            diagnostics.OnMessage(new Xunit.Sdk.DiagnosticMessage("Skipped the browser tests. " + browser.Reason));

            return;
        }

        _folder = Directory.CreateTempSubdirectory("contextc-ui-test-").FullName;
        var corpus = CorpusFolder = Path.Combine(_folder, "sqlite-docs");
        Directory.CreateDirectory(corpus);
        var source = Path.Combine(RepositoryRoot(), "corpora", "sqlite-docs");
        foreach (var file in CorpusFiles)
        {
            File.Copy(Path.Combine(source, file), Path.Combine(corpus, file));
        }

        _app = ServerApp.Build(["--urls", "http://127.0.0.1:0"], o =>
        {
            o.DatabasePath = Path.Combine(_folder, "ui.db");
            o.CorpusPath = corpus;
            // The cache the server tests share: each test server embeds the same few pages, so only the first pays.
            o.EmbeddingCachePath = Path.Combine(Path.GetTempPath(), "contextc-test-embedding-cache.db");
            o.ApiKeys[AlphaKey] = "alpha";
            o.ApiKeys[BetaKey] = "beta";
        });
        await _app.StartAsync();
        Address = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

        Api = new HttpClient { BaseAddress = Address };
        Api.DefaultRequestHeaders.Add("X-Api-Key", AlphaKey);
        await WaitForVectorsAsync();
        await SeedAsync();

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = browser.ExecutablePath,
            Headless = true,
            // Running as root in a container: Chromium's sandbox needs user namespaces that may not be there.
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
    }

    // Working sets are compared across the pages, so the session is seeded once every span has its vector.
    private async Task WaitForVectorsAsync()
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var health = JsonDocument.Parse(await Api.GetStringAsync("/health"));
            if (health.RootElement.GetProperty("vectors").GetProperty("complete").GetBoolean())
            {
                return;
            }

            if (clock.Elapsed > TimeSpan.FromMinutes(3))
            {
                throw new TimeoutException("The UI test server's vectors did not fill in within 3 minutes: " + health.RootElement.GetRawText());
            }

            await Task.Delay(100);
        }
    }

    // A real session through the HTTP API: three turns, each answered; the replies cite [1] (always in the working set)
    // and the first also cites [99], which no working set has.
    private async Task SeedAsync()
    {
        var created = await Api.PostAsJsonAsync("/v1/sessions", new { userId = SeededUser });
        await EnsureSuccess(created);
        SessionId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var turns = new List<JsonElement>();
        var replies = new List<string>();
        for (int i = 0; i < Questions.Count; i++)
        {
            var turn = await Api.PostAsJsonAsync($"/v1/sessions/{SessionId}/turns", new { message = Questions[i], contextBudget = 1500 });
            await EnsureSuccess(turn);
            turns.Add(await turn.Content.ReadFromJsonAsync<JsonElement>());
            var reply = i == 0
                ? $"Run PRAGMA journal_mode=WAL; the setting persists [1]. Some say it needs a rebuild {UnknownMarker}."
                : $"See the cited passage [1] for answer {i + 1}.";
            var said = await Api.PostAsJsonAsync($"/v1/sessions/{SessionId}/messages", new { role = "assistant", content = reply });
            await EnsureSuccess(said);
            replies.Add(reply);
        }

        Turns = turns;
        Replies = replies;
    }

    private static async Task EnsureSuccess(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>A fresh browser context (its own cookies) and page; with <paramref name="signIn"/>, signed in through the form.</summary>
    public async Task<(IBrowserContext Context, IPage Page)> NewPageAsync(bool signIn = true, string apiKey = AlphaKey)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Address.ToString().TrimEnd('/'), ViewportSize = new() { Width = 1280, Height = 900 } });
        // Generous: CI machines like this one run at several times their core count; a page that works answers in milliseconds.
        context.SetDefaultTimeout(30_000);
        context.SetDefaultNavigationTimeout(30_000);
        var page = await context.NewPageAsync();
        if (signIn)
        {
            await SignInAsync(page, apiKey);
        }

        return (context, page);
    }

    /// <summary>Signs in through <c>/ui/login</c> as a person would: types the key and presses the button.</summary>
    public static async Task SignInAsync(IPage page, string apiKey = AlphaKey)
    {
        var login = await page.GotoAsync("/ui/login");
        if (login is null || login.Status != 200)
        {
            throw new InvalidOperationException($"GET /ui/login answered {login?.Status}; the sign-in form is missing.");
        }

        await page.FillAsync("#api-key", apiKey);
        await page.Locator("form:has(#api-key) [type=submit]").ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/ui/sessions");
    }

    /// <summary>The repository root (the folder holding ContextCompiler.sln) above the test binaries.</summary>
    public static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "ContextCompiler.sln")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? throw new InvalidOperationException("Cannot find the repository root above " + AppContext.BaseDirectory);
    }

    /// <summary>Saves a full-page screenshot to <c>docs/ui/{name}.png</c> in the repository; call it once the test's checks passed.</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(RepositoryRoot(), "docs", "ui");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name + ".png"), FullPage = true });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        Api?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (_folder is not null)
        {
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
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
