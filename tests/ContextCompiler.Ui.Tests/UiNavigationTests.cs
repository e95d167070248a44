using System.Globalization;
using Microsoft.Playwright;

namespace ContextCompiler.Ui.Tests;

/// <summary>Following the pages' links as a person would: a citation to its document, the history and total budgets, the report plots, signing out.</summary>
[Collection(BrowserCollection.Name)]
public sealed class UiNavigationTests(BrowserFixture fixture)
{
    [BrowserFact]
    public async Task Open_document_shows_the_cited_lines_with_their_numbers()
    {
        var (context, page) = await fixture.NewPageAsync();
        await using var browserContext = context;
        await page.GotoAsync($"/ui/sessions/{fixture.SessionId}");
        var citation = page.Locator("details.citation#t1-c1");
        await citation.Locator("summary").ClickAsync();
        await citation.GetByRole(AriaRole.Link, new() { Name = "open document" }).ClickAsync();

        var first = fixture.Turns[0].GetProperty("workingSet").GetProperty("citations")[0];
        string path = first.GetProperty("path").GetString()!;
        int start = first.GetProperty("startLine").GetInt32();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath.EndsWith("/documents/" + path, StringComparison.Ordinal));
        Assert.EndsWith($"#L{start}", page.Url);
        Assert.Contains(path, await page.Locator("h1").InnerTextAsync());
        var line = page.Locator($"span#L{start}");
        await Assertions.Expect(line).ToBeVisibleAsync();
        string expected = File.ReadAllLines(Path.Combine(fixture.CorpusFolder, path))[start - 1].Trim();
        Assert.Contains(expected[..Math.Min(40, expected.Length)], await line.InnerTextAsync());
        Assert.StartsWith(start.ToString(CultureInfo.InvariantCulture), (await line.InnerTextAsync()).Trim());
    }

    [BrowserFact]
    public async Task Each_turn_shows_its_history_and_total_budgets_in_tokens()
    {
        var (context, page) = await fixture.NewPageAsync();
        await using var browserContext = context;
        await page.GotoAsync($"/ui/sessions/{fixture.SessionId}");
        for (int n = 1; n <= fixture.Turns.Count; n++)
        {
            var stored = fixture.Turns[n - 1];
            int historyTokens = stored.GetProperty("historyTokens").GetInt32();
            int historyBudget = stored.GetProperty("historyBudget").GetInt32();
            int total = stored.GetProperty("totalTokens").GetInt32();
            var turn = page.Locator($"article.turn#turn-{n}");
            Assert.Equal(historyTokens.ToString(CultureInfo.InvariantCulture), await turn.Locator("meter.budget[data-kind=\"history\"]").GetAttributeAsync("value"));
            string text = await turn.InnerTextAsync();
            Assert.Contains($"history {historyTokens} / {historyBudget} tokens", text);
            Assert.Contains($"total {total} / ", text);
        }
    }

    [BrowserFact]
    public async Task Budgets_page_shows_the_report_plots()
    {
        var (context, page) = await fixture.NewPageAsync();
        await using var browserContext = context;
        await page.GotoAsync("/ui/budgets");
        var plots = page.Locator("img.plot");
        Assert.True(await plots.CountAsync() >= 1, "no report plot on the budgets page");
        var first = plots.First;
        Assert.Contains("plot", await first.GetAttributeAsync("alt") ?? string.Empty);
        await first.ScrollIntoViewIfNeededAsync();
        await page.WaitForFunctionAsync("img => img.complete && img.naturalWidth > 0", await first.ElementHandleAsync());
    }

    [BrowserFact]
    public async Task Signing_out_asks_for_the_key_again()
    {
        var (context, page) = await fixture.NewPageAsync();
        await using var browserContext = context;
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/ui/login");
        var response = await page.GotoAsync("/ui/sessions");
        Assert.Equal(401, response!.Status);
        Assert.Equal("Sign in", (await page.Locator("h1").First.InnerTextAsync()).Trim());
    }
}
