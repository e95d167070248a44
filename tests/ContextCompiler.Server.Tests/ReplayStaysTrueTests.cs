using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace ContextCompiler.Server.Tests;

/// <summary>
/// Issue 11, item 6: replay stays true. A session's stored working sets are what the model was given; replacing or deleting
/// the documents they cite (or their whole corpus) never changes the replay, and a recompile says which citations went stale.
/// </summary>
public sealed class ReplayStaysTrueTests(SharedServer server) : IClassFixture<SharedServer>
{
    private readonly HttpClient _alpha = server.Factory.Client();

    [Fact]
    public async Task Replacing_and_deleting_cited_documents_and_then_their_corpus_leaves_the_replay_byte_identical_and_marks_citations_stale()
    {
        string corpus = "replay-" + Guid.NewGuid().ToString("N")[..8];
        string key = $"alpha/{corpus}";
        string changing = IsolationWorld.Word("chan"), doomed = IsolationWorld.Word("doom"), steady = IsolationWorld.Word("stea");
        Assert.Equal(HttpStatusCode.Created, (await _alpha.PostAsJsonAsync("/v1/corpora", new { name = corpus })).StatusCode);
        await Put(corpus, "changing.md", $"# Changing {changing}\n\nThe {changing} rule says the budget is one hundred tokens.\n");
        await Put(corpus, "doomed.md", $"# Doomed {doomed}\n\nThe {doomed} note will be deleted after the turn.\n");
        await Put(corpus, "steady.md", $"# Steady {steady}\n\nThe {steady} page never changes.\n");

        // Vectors are written in the background; the turn waits for them, so that recompiling it straight away is identical.
        await VectorsWritten();
        string session = await _alpha.CreateSession();
        var turn = await _alpha.Turn(session, $"{changing} {doomed} {steady}", new { contextBudget = 3000 });
        var cited = turn.GetProperty("workingSet").GetProperty("citations").EnumerateArray()
            .Where(c => c.GetProperty("corpus").GetString() == key).Select(c => c.GetProperty("path").GetString()).ToHashSet();
        Assert.Equal(["changing.md", "doomed.md", "steady.md"], cited.Order());
        await _alpha.Say(session, "assistant", "The budget is one hundred tokens [1].");

        string replay = await Replay(session);
        string history = await _alpha.GetStringAsync($"/v1/sessions/{session}/history");
        var fresh = await Recompile(session);
        Assert.Empty(fresh.GetProperty("staleCitations").EnumerateArray());
        Assert.True(fresh.GetProperty("identical").GetBoolean());

        // Replace one cited document with other text, delete another: the stored turn is what it was, byte for byte.
        string replacement = IsolationWorld.Word("repl");
        var put = await CorporaApiTests.Put(_alpha, corpus, "changing.md", $"# Changed {replacement}\n\nThe rule now says something else entirely.\n", "text/markdown");
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.True((await put.Json()).GetProperty("changed").GetBoolean());
        Assert.Equal(HttpStatusCode.NoContent, (await _alpha.DeleteAsync($"/v1/corpora/{corpus}/documents/doomed.md")).StatusCode);

        Assert.Equal(replay, await Replay(session));
        Assert.Equal(history, await _alpha.GetStringAsync($"/v1/sessions/{session}/history"));
        Assert.Contains(changing, replay, StringComparison.Ordinal);
        Assert.DoesNotContain(replacement, replay, StringComparison.Ordinal);

        var stale = await Recompile(session);
        var states = States(stale);
        Assert.Equal(new Dictionary<string, string> { ["changing.md"] = "changed", ["doomed.md"] = "deleted" }, states);
        Assert.All(stale.GetProperty("staleCitations").EnumerateArray(), s => Assert.Equal(key, s.GetProperty("corpus").GetString()));
        Assert.False(stale.GetProperty("identical").GetBoolean());
        // The deleted document is not retrieved again; the changed one is retrieved as it is now.
        Assert.DoesNotContain(Ranges(stale, "added").Concat(Ranges(stale, "kept")), r => r.Path == "doomed.md");
        Assert.Contains(Ranges(stale, "removed"), r => r.Path == "doomed.md");

        // Delete the whole corpus: the replay still does not move, and every citation of the corpus is now deleted.
        Assert.Equal(HttpStatusCode.NoContent, (await _alpha.DeleteAsync($"/v1/corpora/{corpus}")).StatusCode);
        Assert.Equal(replay, await Replay(session));
        Assert.Equal(history, await _alpha.GetStringAsync($"/v1/sessions/{session}/history"));

        var gone = await Recompile(session);
        Assert.Equal(new Dictionary<string, string> { ["changing.md"] = "deleted", ["doomed.md"] = "deleted", ["steady.md"] = "deleted" }, States(gone));
        Assert.DoesNotContain(Ranges(gone, "added").Concat(Ranges(gone, "kept")), r => r.Corpus == key);
        Assert.Equal(3, Ranges(gone, "removed").Count(r => r.Corpus == key));

        // A corpus of the same name made again, with a document at a cited path: the citation is changed, not current.
        Assert.Equal(HttpStatusCode.Created, (await _alpha.PostAsJsonAsync("/v1/corpora", new { name = corpus })).StatusCode);
        await Put(corpus, "steady.md", $"# Steady {steady}\n\nThe {steady} page never changes.\n");
        Assert.Equal(replay, await Replay(session));
        var back = States(await Recompile(session));
        Assert.Equal("changed", back["steady.md"]);
        Assert.Equal("deleted", back["doomed.md"]);
    }

    private async Task VectorsWritten()
    {
        for (int i = 0; i < 1200; i++)
        {
            using var health = JsonDocument.Parse(await _alpha.GetStringAsync("/health"));
            if (health.RootElement.GetProperty("vectors").GetProperty("complete").GetBoolean())
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The uploaded documents' vectors were not written within 2 minutes.");
    }

    private async Task Put(string corpus, string path, string text) =>
        Assert.Equal(HttpStatusCode.Created, (await CorporaApiTests.Put(_alpha, corpus, path, text, "text/markdown")).StatusCode);

    private async Task<string> Replay(string session)
    {
        var response = await _alpha.GetAsync($"/v1/sessions/{session}/replay");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    // The one user turn of the report.
    private async Task<JsonElement> Recompile(string session)
    {
        var response = await _alpha.PostAsync($"/v1/sessions/{session}/replay/recompile", null);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var report = JsonDocument.Parse(text);
        return Assert.Single(report.RootElement.GetProperty("turns").EnumerateArray()).Clone();
    }

    private static Dictionary<string, string> States(JsonElement turn) =>
        turn.GetProperty("staleCitations").EnumerateArray().ToDictionary(s => s.GetProperty("path").GetString()!, s => s.GetProperty("state").GetString()!);

    private static List<(string Corpus, string Path)> Ranges(JsonElement turn, string name) =>
        turn.GetProperty(name).EnumerateArray().Select(r => (r.GetProperty("corpus").GetString()!, r.GetProperty("path").GetString()!)).ToList();
}
