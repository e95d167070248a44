using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace ContextCompiler.Server.Tests;

/// <summary>The evaluators' pages under /ui, read as HTML the way a person would read them.</summary>
public sealed partial class UiPagesTests(SharedServer server) : IClassFixture<SharedServer>
{
    private ServerFactory Factory => server.Factory;

    [Fact]
    public async Task A_page_without_a_key_answers_401_with_the_sign_in_form()
    {
        using var client = Factory.UiClient();
        var response = await client.GetAsync("/ui/sessions");
        string html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<h1>Sign in</h1>", html);
        Assert.Contains("id=\"api-key\"", html);
        Assert.Contains("type=\"password\"", html);
    }

    [Fact]
    public async Task The_root_redirects_to_the_sessions()
    {
        using var client = Factory.UiClient();
        var response = await client.GetAsync("/ui");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/ui/sessions", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Signing_in_sets_a_session_cookie_and_the_sessions_page_lists_the_tenants_sessions()
    {
        using var api = Factory.Client(ServerFactory.AlphaKey);
        string user = "ui-" + Guid.NewGuid().ToString("N")[..8];
        string id = await api.CreateSession(new { userId = user });
        await api.Turn(id, "How does write-ahead logging work?", new { contextBudget = 500 });
        using var beta = Factory.Client(ServerFactory.BetaKey);
        string betaId = await beta.CreateSession(new { userId = user });

        using var client = Factory.UiClient();
        var response = await SignIn(client, ServerFactory.AlphaKey);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/ui/sessions", response.Headers.Location?.OriginalString);
        string cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("contextc-ui=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("expires", cookie, StringComparison.OrdinalIgnoreCase);

        var page = await client.GetAsync($"/ui/sessions?user={user}");
        string html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<table id=\"sessions\"", html);
        var row = Row(html, id);
        Assert.Contains($"href=\"/ui/sessions/{id}\"", row);
        Assert.Contains(user, row);
        Assert.Contains("open", row);
        Assert.Matches("<td class=\"num turns\">1</td>", row);
        Assert.Matches("<td class=\"num tokens\">[1-9][0-9]*</td>", row);
        Assert.DoesNotContain(betaId, html);
    }

    [Fact]
    public async Task A_wrong_key_is_refused_with_the_form_again()
    {
        using var client = Factory.UiClient();
        var response = await SignIn(client, "not-a-key");
        string html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("<h1>Sign in</h1>", html);
        Assert.Contains("not recognised", html);
    }

    [Fact]
    public async Task The_replay_shows_each_turn_as_a_triple_with_citations_markers_and_the_budget()
    {
        using var api = Factory.Client(ServerFactory.AlphaKey);
        string id = await api.CreateSession(new { userId = "ui-replay" });
        var turn = await api.Turn(id, "How does write-ahead logging work?", new { contextBudget = 600 });
        var workingSet = turn.GetProperty("workingSet");
        int tokens = workingSet.GetProperty("tokenCount").GetInt32();
        var first = workingSet.GetProperty("citations")[0];
        string path = first.GetProperty("path").GetString()!;
        int start = first.GetProperty("startLine").GetInt32();
        int end = first.GetProperty("endLine").GetInt32();
        await api.Say(id, "assistant", "WAL appends changes to a separate file [1]. It is never slow [99].");

        using var client = Factory.UiClient(ServerFactory.AlphaKey);
        var response = await client.GetAsync($"/ui/sessions/{id}");
        string html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("<article class=\"turn\" id=\"turn-1\"", html);
        Assert.Contains("How does write-ahead logging work?", Section(html, "user-message"));
        string set = Section(html, "working-set");
        Assert.Contains("id=\"t1-c1\"", set);
        Assert.Contains($"{path}:L{start}-L{end}", set);
        Assert.Contains($"context {tokens} / 600 tokens", set);
        Assert.Contains($"class=\"budget\" data-kind=\"context\"", set);
        int historyBudget = turn.GetProperty("historyBudget").GetInt32();
        int historyTokens = turn.GetProperty("history").GetProperty("tokenCount").GetInt32();
        Assert.Contains($"history {historyTokens} / {historyBudget} tokens", set);
        Assert.Contains($"total {tokens + historyTokens} / ", set);
        Assert.Contains(WebUtility.HtmlEncode(first.GetProperty("corpus").GetString()!), set);
        Assert.Contains($"#L{start}\">open document</a>", set);
        string reply = Section(html, "assistant-message");
        Assert.Contains("<a class=\"marker\" href=\"#t1-c1\">[1]</a>", reply);
        Assert.Contains("<mark class=\"marker unknown\">[99] (unknown citation)</mark>", reply);
        Assert.Contains("/ui/sessions/" + id + "/turns/1/why", html);

        // The document link opens the cited document with numbered lines.
        string href = Regex.Match(set, "href=\"(/ui/corpora/[^\"#]+)#L").Groups[1].Value;
        string document = await client.GetStringAsync(href);
        Assert.Contains($"<span class=\"line\" id=\"L{start}\">", document);
    }

    [Fact]
    public async Task An_unknown_session_is_a_404_page()
    {
        using var client = Factory.UiClient(ServerFactory.AlphaKey);
        var response = await client.GetAsync("/ui/sessions/no-such-session");
        string html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<h1>Not found</h1>", html);
    }

    [Fact]
    public async Task Why_lists_every_candidate_and_recompile_shows_the_diff_without_storing()
    {
        using var api = Factory.Client(ServerFactory.AlphaKey);
        string id = await api.CreateSession(new { userId = "ui-why" });
        await api.Turn(id, "How does write-ahead logging work?", new { contextBudget = 600 });
        using var client = Factory.UiClient(ServerFactory.AlphaKey);

        var why = await client.GetAsync($"/ui/sessions/{id}/turns/1/why");
        string html = await why.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, why.StatusCode);
        Assert.Contains("<table id=\"candidates\"", html);
        Assert.Contains("Fresh compile", html);
        var rows = Regex.Matches(html, "<tr class=\"outcome-(\\w+)\"");
        Assert.NotEmpty(rows);
        Assert.Contains(rows, r => r.Groups[1].Value == "included");
        Assert.Contains(rows, r => r.Groups[1].Value == "dropped");
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/ui/sessions/{id}/turns/7/why")).StatusCode);

        var form = await client.GetStringAsync($"/ui/sessions/{id}/recompile");
        Assert.Contains("id=\"r-budget\"", form);
        Assert.DoesNotContain("<table id=\"diff\"", form);

        var recompile = await client.GetAsync($"/ui/sessions/{id}/recompile?budget=300&options=mmrLambda%3D0.5");
        html = await recompile.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, recompile.StatusCode);
        Assert.Contains("<table id=\"diff\"", html);
        Assert.Contains("<tr data-turn=\"1\" data-sequence=\"1\">", html);
        Assert.Contains("/ 600</td>", html);
        Assert.Contains("/ 300</td>", html);
        Assert.Matches("<td class=\"num jaccard\">[01]\\.[0-9]{3}</td>", html);

        var bad = await client.GetAsync($"/ui/sessions/{id}/recompile?options=noSuchOption%3D1");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("Unknown compiler option", await bad.Content.ReadAsStringAsync());

        // Stores nothing: the replay still has its one turn.
        var replay = await (await api.GetAsync($"/v1/sessions/{id}/replay")).Json();
        Assert.Equal(1, replay.GetProperty("turns").GetArrayLength());
    }

    [Fact]
    public async Task Budgets_compile_one_query_at_each_budget_and_show_the_reports()
    {
        using var client = Factory.UiClient(ServerFactory.AlphaKey);
        var response = await client.GetAsync("/ui/budgets?query=write-ahead+log+checkpoint&budgets=250,500,1000");
        string html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("<table id=\"budgets\"", html);
        var rows = Regex.Matches(html, "<tr data-budget=\"(\\d+)\">\\s*<th scope=\"row\" class=\"num\">\\d+</th>\\s*<td class=\"num\">(\\d+)</td>");
        Assert.Equal(["250", "500", "1000"], rows.Select(r => r.Groups[1].Value));
        Assert.All(rows, r => Assert.True(int.Parse(r.Groups[2].Value) <= int.Parse(r.Groups[1].Value)));

        Assert.Contains("alt=\"recall vs budget plot of the scifact evaluation report\"", html);
        var plot = await client.GetAsync("/ui/reports/scifact/recall-vs-budget.svg");
        Assert.Equal(HttpStatusCode.OK, plot.StatusCode);
        Assert.Equal("image/svg+xml", plot.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/ui/reports/..%2F..%2FREADME.md")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/ui/reports/scifact/../../../README.md")).StatusCode);
    }

    [Fact]
    public async Task Budgets_page_scifact_plot_draws_each_strategys_evidence_recall_from_benchmarks_results_scifact_report_json()
    {
        // The numbers the plot must show, read from the checkout's report and not through the server, so that a plot
        // from any other source (an older copy, another folder, a series of its own) differs from them.
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(
            Path.Combine(ServerFactory.RepositoryRoot(), "benchmarks", "results", "scifact", "report.json")));
        var expected = report.RootElement.GetProperty("strategies").EnumerateArray().ToDictionary(
            s => s.GetProperty("name").GetString()!,
            s => s.GetProperty("budgets").EnumerateArray()
                .Select(b => (Budget: b.GetProperty("budget").GetInt32(), Recall: b.GetProperty("evidenceRecall").GetDouble()))
                .ToList());
        Assert.Contains("vector", expected.Keys);

        using var client = Factory.UiClient(ServerFactory.AlphaKey);
        string html = await client.GetStringAsync("/ui/budgets");
        var img = ScifactPlot().Match(html);
        Assert.True(img.Success, $"No scifact recall plot on the budgets page:{Environment.NewLine}{html}");
        var svg = XDocument.Parse(await client.GetStringAsync(WebUtility.HtmlDecode(img.Groups[1].Value)));

        // Read the plot as a person would, through its axes: the labelled grid lines give recall for a height, the
        // labelled ticks give the budget at each x.
        XNamespace ns = "http://www.w3.org/2000/svg";
        var marks = svg.Root!.Elements().ToList();
        var labelled = marks.Zip(marks.Skip(1))
            .Where(p => p.First.Name == ns + "line" && p.Second.Name == ns + "text")
            .Select(p => (Line: p.First, Label: p.Second.Value))
            .ToList();
        var grid = labelled.Where(l => (string?)l.Line.Attribute("stroke") == "#e0e0e0")
            .Select(l => (Recall: Number(l.Label), Y: Number(l.Line.Attribute("y1")!.Value)))
            .ToList();
        Assert.True(grid.Count >= 2, "The plot has no recall axis");
        var ticks = labelled.Where(l => (string?)l.Line.Attribute("stroke") == "black" && int.TryParse(l.Label, CultureInfo.InvariantCulture, out _))
            .ToDictionary(l => Number(l.Line.Attribute("x1")!.Value), l => int.Parse(l.Label, CultureInfo.InvariantCulture));
        double perPixel = (grid[^1].Recall - grid[0].Recall) / (grid[^1].Y - grid[0].Y);
        // Points are written to a tenth of a pixel.
        double tolerance = Math.Abs(perPixel) * 0.1;

        var drawn = svg.Root.Elements(ns + "g")
            .Where(g => (string?)g.Attribute("class") == "series")
            .ToDictionary(g => (string)g.Attribute("data-strategy")!, g => g.Element(ns + "polyline")!.Attribute("points")!.Value
                .Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(p => p.Split(','))
                .Select(p => (Budget: ticks[Number(p[0])], Recall: grid[0].Recall + ((Number(p[1]) - grid[0].Y) * perPixel)))
                .ToList());

        Assert.Equal(expected.Keys.Order(), drawn.Keys.Order());
        foreach (var (strategy, points) in expected)
        {
            Assert.Equal(points.Select(p => p.Budget), drawn[strategy].Select(p => p.Budget));
            foreach (var (want, got) in points.Zip(drawn[strategy]))
            {
                Assert.True(Math.Abs(want.Recall - got.Recall) <= tolerance,
                    $"{strategy} at budget {want.Budget}: the plot draws evidence recall {got.Recall:0.000}, report.json says {want.Recall:0.000}");
            }
        }
    }

    [Fact]
    public async Task The_ui_is_not_in_the_openapi_document()
    {
        using var client = Factory.UiClient();
        string document = await client.GetStringAsync("/openapi/v1.json");
        Assert.DoesNotContain("\"/ui", document);
    }

    [Theory]
    [InlineData("/ui/sessions?limit=0", "limit must be between 1 and 500")]
    [InlineData("/ui/sessions?orderBy=colour", "orderBy")]
    [InlineData("/ui/sessions?updatedAfter=yesterday", "Active after is not a date")]
    [InlineData("/ui/budgets?query=wal&budgets=0,100", "Each budget must be a whole number")]
    public async Task A_bad_filter_is_a_400_page_that_says_why(string url, string message)
    {
        using var client = Factory.UiClient(ServerFactory.AlphaKey);
        var response = await client.GetAsync(url);
        string html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("role=\"alert\"", html);
        Assert.Contains(message, html);
    }

    [Fact]
    public async Task The_replay_shows_each_compaction_after_its_turn_with_what_it_replaced_and_the_usage()
    {
        using var api = Factory.Client(ServerFactory.AlphaKey);
        string id = await api.CreateSession(new { userId = "ui-compaction", compaction = "auto", compactionThreshold = 1, summaryShare = 0.5 });
        // A question with markup in it, which the summary's opening line keeps: the page must show it as text.
        await api.Turn(id, "How does <b>write-ahead</b> logging work?", new { contextBudget = 300, historyBudget = 60 });
        await api.Say(id, "assistant", "WAL appends changes to a separate file and readers keep going [1].");
        foreach (int i in Enumerable.Range(1, 4))
        {
            await api.Say(id, "system", $"Note {i:00}: keep setting {i:00}.");
        }

        var turn = await api.Turn(id, "What happens to readers during a checkpoint?", new { contextBudget = 300, historyBudget = 60 });
        var made = turn.GetProperty("compaction");
        Assert.Equal(JsonValueKind.Object, made.ValueKind);
        long from = made.GetProperty("fromSequence").GetInt64(), through = made.GetProperty("throughSequence").GetInt64();
        string summary = made.GetProperty("summary").GetString()!;
        Assert.Contains("<b>", summary, StringComparison.Ordinal);
        var usage = (await (await api.GetAsync($"/v1/sessions/{id}/usage")).Json());

        using var client = Factory.UiClient(ServerFactory.AlphaKey);
        string html = await client.GetStringAsync($"/ui/sessions/{id}");

        // Between turn 1 and turn 2: the compaction was made by turn 2, after turn 1's messages.
        int first = html.IndexOf("id=\"turn-1\"", StringComparison.Ordinal);
        int at = html.IndexOf("<section class=\"compaction\" id=\"compaction-1\"", StringComparison.Ordinal);
        int second = html.IndexOf("id=\"turn-2\"", StringComparison.Ordinal);
        Assert.True(first >= 0 && first < at && at < second, $"turn 1 at {first}, the compaction at {at}, turn 2 at {second}");
        string section = Section(html, "compaction");
        Assert.Contains($"Replaced messages {from}–{through} (turn 1)", section);
        Assert.Contains($"summary {made.GetProperty("tokenCount").GetInt32()} tokens · summariser extractive · model none", section);
        Assert.Contains("No fallback.", section);
        Assert.Contains("(auto, after message ", section);
        Assert.Contains($"<pre class=\"summary\">{WebUtility.HtmlEncode(summary)}</pre>", section);
        Assert.DoesNotContain("<b>write-ahead</b>", html);

        // Text inside expressions is encoded beyond ASCII (the en dash), so the usage lines are read as a person sees them.
        string text = WebUtility.HtmlDecode(html);
        int budget = usage.GetProperty("historyBudget").GetInt32();
        Assert.Equal(60, budget);
        Assert.Contains($"history {usage.GetProperty("historyTokens").GetInt32()} / {budget} tokens", text);
        Assert.Contains($"summary {usage.GetProperty("summaryTokens").GetInt32()} tokens, covering messages 1–{through}; 1 compaction(s)", text);
        Assert.Contains($"evicted {usage.GetProperty("evictedMessages").GetInt32()} message(s), {usage.GetProperty("evictedTokens").GetInt64()} tokens", text);
        Assert.Contains("auto, after 1 evicted message(s), summary at most 50% of the history", text);
    }

    private static async Task<HttpResponseMessage> SignIn(HttpClient client, string key)
    {
        string form = await client.GetStringAsync("/ui/login");
        var token = TokenField().Match(form);
        Assert.True(token.Success, form);
        return await client.PostAsync("/ui/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [WebUtility.HtmlDecode(token.Groups[1].Value)] = WebUtility.HtmlDecode(token.Groups[2].Value),
            ["apiKey"] = key,
        }));
    }

    private static double Number(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static string Row(string html, string id)
    {
        var match = Regex.Match(html, $"<tr data-session-id=\"{id}\">(.*?)</tr>", RegexOptions.Singleline);
        Assert.True(match.Success, $"No row for session {id} in:{Environment.NewLine}{html}");
        return match.Groups[1].Value;
    }

    private static string Section(string html, string cls)
    {
        var match = Regex.Match(html, $"<section class=\"{cls}\"[^>]*>(.*?)</section>", RegexOptions.Singleline);
        Assert.True(match.Success, $"No section {cls} in:{Environment.NewLine}{html}");
        return match.Groups[1].Value;
    }

    [GeneratedRegex("<img class=\"plot\" src=\"([^\"]+)\" alt=\"recall vs budget plot of the scifact evaluation report\"")]
    private static partial Regex ScifactPlot();

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
