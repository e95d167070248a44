using System.Text.Json;

namespace ContextCompiler.Ui.Tests;

/// <summary>The browser reaches the real server over a real socket, before any /ui page is involved.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SmokeTests(BrowserFixture fixture)
{
    [BrowserFact]
    public async Task Browser_loads_the_openapi_document_from_the_loopback_server()
    {
        var (context, page) = await fixture.NewPageAsync(signIn: false);
        await using var browserContext = context;
        var response = await page.GotoAsync("/openapi/v1.json");
        Assert.NotNull(response);
        Assert.Equal(200, response!.Status);
        using var document = JsonDocument.Parse(await response.TextAsync());
        Assert.True(document.RootElement.GetProperty("paths").TryGetProperty("/v1/sessions", out _));
    }

    [BrowserFact]
    public async Task Browser_loads_health_and_the_seeded_session_exists()
    {
        var (context, page) = await fixture.NewPageAsync(signIn: false);
        await using var browserContext = context;
        var response = await page.GotoAsync("/health");
        Assert.Equal(200, response!.Status);
        Assert.Contains("vectors", await page.Locator("body").InnerTextAsync());
        Assert.Equal(BrowserFixture.Questions.Count, fixture.Turns.Count);
        Assert.False(string.IsNullOrEmpty(fixture.SessionId));
    }
}
