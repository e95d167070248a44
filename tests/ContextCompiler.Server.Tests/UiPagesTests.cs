using System.Net;
using System.Text.RegularExpressions;

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

    private static string Row(string html, string id)
    {
        var match = Regex.Match(html, $"<tr data-session-id=\"{id}\">(.*?)</tr>", RegexOptions.Singleline);
        Assert.True(match.Success, $"No row for session {id} in:{Environment.NewLine}{html}");
        return match.Groups[1].Value;
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
