using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace ContextCompiler.Ui.Tests;

/// <summary>
/// The /ui pages in a real browser against a real server with a real seeded session, checking what a person would see.
/// The selectors are the page contract of issue 12 (ids and classes that the pages promise). A test that passes saves a
/// screenshot of its page under docs/ui/.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed partial class UiPageTests(BrowserFixture fixture)
{
    [BrowserFact]
    public async Task Sessions_without_a_key_answer_401_with_the_sign_in_form()
    {
        var (context, page) = await fixture.NewPageAsync(signIn: false);
        await using var browserContext = context;
        var response = await page.GotoAsync("/ui/sessions");
        Assert.Equal(401, response!.Status);
        Assert.Equal("Sign in", (await page.Locator("h1").First.InnerTextAsync()).Trim());
        Assert.True(await page.Locator("#api-key").IsVisibleAsync());
        // Nothing of the tenant's data leaks into the page.
        Assert.DoesNotContain(fixture.SessionId, await page.ContentAsync());
    }

    [BrowserFact]
    public async Task Signing_in_through_the_form_leads_to_the_sessions_list()
    {
        var (context, page) = await fixture.NewPageAsync(signIn: false);
        await using var browserContext = context;
        var login = await page.GotoAsync("/ui/login");
        Assert.Equal(200, login!.Status);
        await BrowserFixture.ScreenshotAsync(page, "login");
        await BrowserFixture.SignInAsync(page);
        Assert.EndsWith("/ui/sessions", new Uri(page.Url).AbsolutePath);
        Assert.True(await page.Locator("table#sessions").IsVisibleAsync());

        // The key is kept for the browser session: another page opens without asking again.
        var replay = await page.GotoAsync($"/ui/sessions/{fixture.SessionId}");
        Assert.Equal(200, replay!.Status);
    }

    [BrowserFact]
    public async Task Sessions_table_lists_the_seeded_session_with_turns_and_links_to_its_replay()
    {
        var (context, page) = await fixture.NewPageAsync();
        await using var browserContext = context;
        var row = page.Locator($"table#sessions tr[data-session-id=\"{fixture.SessionId}\"]");
        Assert.Equal(1, await row.CountAsync());
        Assert.True(await row.IsVisibleAsync());
        var cells = await row.Locator("td").AllInnerTextsAsync();
        Assert.Contains(cells, c => c.Trim() == BrowserFixture.Questions.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));

        await BrowserFixture.ScreenshotAsync(page, "sessions");
        await row.Locator($"a[href$=\"/ui/sessions/{fixture.SessionId}\"]").First.ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == $"/ui/sessions/{fixture.SessionId}");
        Assert.Equal(BrowserFixture.Questions.Count, await page.Locator("article.turn").CountAsync());
    }

    [BrowserFact]
    public async Task Another_tenant_does_not_see_the_session()
    {
        var (context, page) = await fixture.NewPageAsync(apiKey: BrowserFixture.BetaKey);
        await using var browserContext = context;
        Assert.Equal(0, await page.Locator($"tr[data-session-id=\"{fixture.SessionId}\"]").CountAsync());
        var replay = await page.GotoAsync($"/ui/sessions/{fixture.SessionId}");
        Assert.Equal(404, replay!.Status);
    }

    [BrowserFact]
    public async Task Replay_shows_each_turn_as_a_triple_with_its_working_set_and_budget()
    {
        var (context, page) = await fixture.NewPageAsync();
        await using var browserContext = context;
        var response = await page.GotoAsync($"/ui/sessions/{fixture.SessionId}");
        Assert.Equal(200, response!.Status);
        for (int i = 0; i < BrowserFixture.Questions.Count; i++)
        {
            var stored = fixture.Turns[i];
            long seq = fixture.Seqs[i];
            var turn = page.Locator($"article.turn#turn-{seq}");
            Assert.True(await turn.IsVisibleAsync(), $"turn {seq} is not visible");

            Assert.Contains(BrowserFixture.Questions[i], await turn.Locator("section.user-message").InnerTextAsync());

            // The working set: every citation's header as path:Lstart-Lend, and the cited lines' text in the page.
            var set = turn.Locator("section.working-set");
            var citations = stored.GetProperty("workingSet").GetProperty("citations");
            Assert.True(citations.GetArrayLength() > 0, $"turn {seq} has an empty working set");
            Assert.Equal(citations.GetArrayLength(), await set.Locator("details.citation").CountAsync());
            foreach (var citation in citations.EnumerateArray())
            {
                int n = citation.GetProperty("n").GetInt32();
                var summary = await set.Locator($"details.citation#t{seq}-c{n} > summary").InnerTextAsync();
                Assert.Contains(Header(citation), summary);
                Assert.Contains(Normalize(LongestCitedLine(citation)), Normalize(await set.Locator($"#t{seq}-c{n} pre").TextContentAsync() ?? string.Empty));
            }

            Assert.Contains(Normalize(fixture.Replies[i]).Replace(BrowserFixture.UnknownMarker, string.Empty, StringComparison.Ordinal)[..20],
                Normalize(await turn.Locator("section.assistant-message").InnerTextAsync()));

            // The budget in exact tokens, as text (readable without colour).
            var meter = turn.Locator("meter.budget[data-kind=\"context\"]");
            Assert.Equal(1, await meter.CountAsync());
            int used = stored.GetProperty("contextTokens").GetInt32();
            int budget = stored.GetProperty("contextBudget").GetInt32();
            Assert.Equal(used.ToString(System.Globalization.CultureInfo.InvariantCulture), await meter.GetAttributeAsync("value"));
            Assert.Matches(new Regex($@"context\s+{Number(used)}\s*/\s*{Number(budget)}\s+tokens", RegexOptions.IgnoreCase), await turn.InnerTextAsync());
        }

        await BrowserFixture.ScreenshotAsync(page, "replay");
    }

    [BrowserFact]
    public async Task A_citation_expands_to_its_lines_when_its_summary_is_clicked()
    {
        var (context, page) = await fixture.NewPageAsync();
        await using var browserContext = context;
        await page.GotoAsync($"/ui/sessions/{fixture.SessionId}");
        var citation = page.Locator($"details.citation#t{fixture.Seqs[0]}-c1");
        var lines = citation.Locator("pre").First;
        Assert.False(await lines.IsVisibleAsync(), "the citation's lines should start collapsed");
        await citation.Locator("summary").ClickAsync();
        await Assertions.Expect(lines).ToBeVisibleAsync();
        var first = fixture.Turns[0].GetProperty("workingSet").GetProperty("citations")[0];
        Assert.Contains(Normalize(LongestCitedLine(first)), Normalize(await lines.InnerTextAsync()));
        await citation.ScrollIntoViewIfNeededAsync();
        await BrowserFixture.ScreenshotAsync(page, "replay-citation-expanded");
    }

    [BrowserFact]
    public async Task A_citation_opens_from_the_keyboard()
    {
        var (context, page) = await fixture.NewPageAsync();
        await using var browserContext = context;
        await page.GotoAsync($"/ui/sessions/{fixture.SessionId}");
        var citation = page.Locator($"details.citation#t{fixture.Seqs[1]}-c1");
        await citation.Locator("summary").FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(citation.Locator("pre").First).ToBeVisibleAsync();
    }

    [BrowserFact]
    public async Task Markers_link_to_citations_and_the_unknown_one_is_flagged()
    {
        var (context, page) = await fixture.NewPageAsync();
        await using var browserContext = context;
        await page.GotoAsync($"/ui/sessions/{fixture.SessionId}");
        var reply = page.Locator($"#turn-{fixture.Seqs[0]} section.assistant-message");
        var known = reply.Locator("a.marker");
        Assert.True(await known.CountAsync() >= 1);
        Assert.Contains($"t{fixture.Seqs[0]}-c1", await known.First.GetAttributeAsync("href") ?? string.Empty);
        var unknown = reply.Locator("mark.marker.unknown");
        Assert.Equal(1, await unknown.CountAsync());
        Assert.Contains("99", await unknown.InnerTextAsync());
        // Flagged in words or a title too, not by colour alone.
        var flagged = (await unknown.GetAttributeAsync("title")) ?? (await unknown.GetAttributeAsync("aria-label")) ?? await unknown.InnerTextAsync();
        Assert.False(string.IsNullOrWhiteSpace(flagged));
        // Turn 2's reply cites only [1]: nothing is flagged there.
        Assert.Equal(0, await page.Locator($"#turn-{fixture.Seqs[1]} section.assistant-message mark.marker.unknown").CountAsync());
    }

    [BrowserFact]
    public async Task Why_page_lists_the_candidates_with_their_outcomes()
    {
        var (context, page) = await fixture.NewPageAsync();
        await using var browserContext = context;
        var response = await page.GotoAsync($"/ui/sessions/{fixture.SessionId}/turns/{fixture.Seqs[0]}/why");
        Assert.Equal(200, response!.Status);
        var table = page.Locator("table#candidates");
        Assert.True(await table.IsVisibleAsync());
        Assert.True(await table.Locator("tbody tr").CountAsync() >= fixture.Turns[0].GetProperty("workingSet").GetProperty("citations").GetArrayLength());
        Assert.Contains("included", await table.InnerTextAsync(), StringComparison.OrdinalIgnoreCase);
        await BrowserFixture.ScreenshotAsync(page, "why");
    }

    [BrowserFact]
    public async Task Recompile_at_another_budget_shows_the_diff()
    {
        var (context, page) = await fixture.NewPageAsync();
        await using var browserContext = context;
        var response = await page.GotoAsync($"/ui/sessions/{fixture.SessionId}/recompile?budget=400");
        Assert.Equal(200, response!.Status);
        var diff = page.Locator("table#diff");
        Assert.True(await diff.IsVisibleAsync());
        Assert.True(await diff.Locator("tbody tr").CountAsync() >= 1);
        await BrowserFixture.ScreenshotAsync(page, "recompile");

        // It stores nothing: the session still has its three turns, as stored.
        using var replay = JsonDocument.Parse(await fixture.Api.GetStringAsync($"/v1/sessions/{fixture.SessionId}/replay"));
        Assert.Equal(BrowserFixture.Questions.Count, replay.RootElement.GetProperty("turns").GetArrayLength());
    }

    [BrowserFact]
    public async Task Budgets_page_compiles_one_query_at_several_budgets()
    {
        var (context, page) = await fixture.NewPageAsync();
        await using var browserContext = context;
        var response = await page.GotoAsync("/ui/budgets?query=" + Uri.EscapeDataString(BrowserFixture.Questions[0]) + "&budgets=250,500,1000");
        Assert.Equal(200, response!.Status);
        var table = page.Locator("table#budgets");
        Assert.True(await table.IsVisibleAsync());
        var text = await table.InnerTextAsync();
        foreach (var budget in new[] { "250", "500", "1000" })
        {
            Assert.Matches(new Regex(Number(int.Parse(budget, System.Globalization.CultureInfo.InvariantCulture))), text);
        }

        await BrowserFixture.ScreenshotAsync(page, "budgets");
    }

    private static string Header(JsonElement citation) =>
        $"{citation.GetProperty("path").GetString()}:L{citation.GetProperty("startLine").GetInt32()}-L{citation.GetProperty("endLine").GetInt32()}";

    // The longest line of the cited range, read from the corpus file; a page that shows the citation shows this line.
    private string LongestCitedLine(JsonElement citation)
    {
        var path = citation.GetProperty("path").GetString()!;
        var lines = File.ReadAllLines(Path.Combine(fixture.CorpusFolder, path));
        int start = citation.GetProperty("startLine").GetInt32(), end = Math.Min(citation.GetProperty("endLine").GetInt32(), lines.Length);
        var longest = lines[(start - 1)..end].MaxBy(l => l.Trim().Length) ?? string.Empty;
        // A truncated block may end inside its last line, so compare a prefix.
        return longest.Trim().Length > 60 ? longest.Trim()[..60] : longest.Trim();
    }

    private static string Normalize(string text) => Whitespace().Replace(text, " ").Trim();

    // 1500 may be written 1500 or 1,500 (or with a thin space).
    private static string Number(int value)
    {
        var digits = value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (digits.Length <= 3)
        {
            return digits;
        }

        return digits[..^3] + @"[,\u202F\u00A0 ]?" + digits[^3..];
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
