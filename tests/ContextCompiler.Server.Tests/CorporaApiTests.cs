using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace ContextCompiler.Server.Tests;

/// <summary>Corpora and documents over HTTP against the real server: create, upload, compile at once, replace, delete.</summary>
public sealed class CorporaApiTests(SharedServer server) : IClassFixture<SharedServer>
{
    private readonly HttpClient _alpha = server.Factory.Client();

    private static string NewCorpus() => "c-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task A_new_corpus_is_listed_with_the_shared_default_and_an_upload_is_compiled_against_at_once()
    {
        string corpus = NewCorpus();
        var created = await _alpha.PostAsJsonAsync("/v1/corpora", new { name = corpus });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/v1/corpora/{corpus}", created.Headers.Location?.OriginalString);
        var one = await (await _alpha.GetAsync(created.Headers.Location)).Json();
        Assert.Equal((corpus, 0), (one.GetProperty("name").GetString(), one.GetProperty("documents").GetInt32()));
        await (await server.Factory.Client(ServerFactory.BetaKey).GetAsync(created.Headers.Location)).AssertProblem(404);

        var document = await (await server.Factory.Client(apiKey: null).GetAsync("/openapi/v1.json")).Json();
        var put = document.GetProperty("paths").GetProperty("/v1/corpora/{corpus}/documents/{path}").GetProperty("put").GetProperty("requestBody").GetProperty("content");
        Assert.Equal("string", put.GetProperty("text/*").GetProperty("schema").GetProperty("type").GetString());
        Assert.True(put.GetProperty("application/json").GetProperty("schema").TryGetProperty("$ref", out _));

        var listed = (await (await _alpha.GetAsync("/v1/corpora")).Json()).GetProperty("items").EnumerateArray().ToList();
        Assert.Contains(listed, c => c.GetProperty("name").GetString() == corpus && c.GetProperty("owned").GetBoolean() && c.GetProperty("key").GetString() == $"alpha/{corpus}");
        Assert.Contains(listed, c => c.GetProperty("name").GetString() == "sqlite-docs" && c.GetProperty("shared").GetBoolean() && !c.GetProperty("owned").GetBoolean());

        const string markdown = "# Zanzibar flux capacitor\n\nThe quorbic zanzibar capacitor stores 1.21 gigawatts of flux.\n";
        var upload = await Put(_alpha, corpus, "guides/flux.md", markdown, "text/markdown");
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        var stored = (await upload.Json()).GetProperty("document");
        Assert.Equal("guides/flux.md", stored.GetProperty("path").GetString());
        Assert.Equal(Encoding.UTF8.GetByteCount(markdown), stored.GetProperty("bytes").GetInt64());
        Assert.True(stored.GetProperty("spans").GetInt32() >= 1);

        // Read your writes: lexical retrieval has it as soon as the PUT answered.
        var set = await Compile(_alpha, "quorbic zanzibar capacitor", corpus);
        var citation = Assert.Single(set.GetProperty("citations").EnumerateArray());
        Assert.Equal("guides/flux.md", citation.GetProperty("path").GetString());
        Assert.Equal($"alpha/{corpus}", citation.GetProperty("corpus").GetString());

        // Without a corpus named, the tenant's own documents are searched with the shared ones.
        var all = await Compile(_alpha, "quorbic zanzibar capacitor gigawatts");
        Assert.Contains(all.GetProperty("citations").EnumerateArray(), c => c.GetProperty("path").GetString() == "guides/flux.md");
    }

    [Fact]
    public async Task A_document_comes_back_exactly_a_repeat_put_changes_nothing_and_a_delete_removes_it_from_the_next_compile()
    {
        string corpus = await CreateCorpus(_alpha);
        string text = "Plain text with a CRLF\r\nand a BOM-less accent: café \u2014 and an astral \ud83d\ude00.\r\n";
        Assert.Equal(HttpStatusCode.Created, (await PutJson(_alpha, corpus, "notes/a b.txt", text, "text/plain")).StatusCode);

        var got = await (await _alpha.GetAsync($"/v1/corpora/{corpus}/documents/notes/a%20b.txt")).Json();
        Assert.Equal(text, got.GetProperty("text").GetString());
        Assert.Equal("text/plain", got.GetProperty("document").GetProperty("mediaType").GetString());

        var again = await PutJson(_alpha, corpus, "notes/a b.txt", text, "text/plain");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.False((await again.Json()).GetProperty("changed").GetBoolean());

        Assert.NotEmpty((await Compile(_alpha, "BOM-less accent café", corpus)).GetProperty("citations").EnumerateArray());
        Assert.Equal(HttpStatusCode.NoContent, (await _alpha.DeleteAsync($"/v1/corpora/{corpus}/documents/notes/a%20b.txt")).StatusCode);
        Assert.Empty((await Compile(_alpha, "BOM-less accent café", corpus)).GetProperty("citations").EnumerateArray());
        await (await _alpha.GetAsync($"/v1/corpora/{corpus}/documents/notes/a%20b.txt")).AssertProblem(404);
        await (await _alpha.DeleteAsync($"/v1/corpora/{corpus}/documents/notes/a%20b.txt")).AssertProblem(404);
    }

    [Fact]
    public async Task The_location_of_a_new_document_escapes_each_segment_of_its_path()
    {
        // The in-process server lets any header through; Kestrel answers 500 for a non-ASCII one, after the write.
        string corpus = await CreateCorpus(_alpha);
        var put = await PutJson(_alpha, corpus, "café/a b#1.md", "# x\n\ntext\n", "text/markdown");
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal($"/v1/corpora/{corpus}/documents/caf%C3%A9/a%20b%231.md", put.Headers.Location?.OriginalString);
        Assert.Equal("# x\n\ntext\n", (await (await _alpha.GetAsync(put.Headers.Location)).Json()).GetProperty("text").GetString());
    }

    [Fact]
    public async Task Documents_list_in_path_order_with_a_prefix_and_a_cursor()
    {
        string corpus = await CreateCorpus(_alpha);
        foreach (var path in new[] { "b/2.md", "a/1.md", "b/1.md", "c.md" })
        {
            Assert.True((await Put(_alpha, corpus, path, $"# {path}\n\nSome words about {path}.\n", "text/markdown")).IsSuccessStatusCode);
        }

        var first = await (await _alpha.GetAsync($"/v1/corpora/{corpus}/documents?limit=2")).Json();
        Assert.Equal(["a/1.md", "b/1.md"], first.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("path").GetString()));
        string cursor = first.GetProperty("nextCursor").GetString()!;
        var second = await (await _alpha.GetAsync($"/v1/corpora/{corpus}/documents?limit=2&cursor={Uri.EscapeDataString(cursor)}")).Json();
        Assert.Equal(["b/2.md", "c.md"], second.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("path").GetString()));
        Assert.False(second.TryGetProperty("nextCursor", out var end) && end.ValueKind != JsonValueKind.Null);

        var prefixed = await (await _alpha.GetAsync($"/v1/corpora/{corpus}/documents?prefix=b/")).Json();
        Assert.Equal(["b/1.md", "b/2.md"], prefixed.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("path").GetString()));
        var one = prefixed.GetProperty("items")[0];
        Assert.Equal(64, one.GetProperty("contentHash").GetString()!.Length);
        Assert.True(one.GetProperty("tokens").GetInt64() > 0);
        Assert.Contains(one.GetProperty("status").GetString(), new[] { "indexing", "ready" });
    }

    [Fact]
    public async Task Vectors_follow_an_upload_and_its_status_turns_ready()
    {
        string corpus = await CreateCorpus(_alpha);
        Assert.True((await Put(_alpha, corpus, "v.md", "# Vectors\n\nEmbedding this paragraph happens in the background.\n", "text/markdown")).IsSuccessStatusCode);
        string status = "";
        for (int i = 0; i < 240 && status != "ready"; i++)
        {
            status = (await (await _alpha.GetAsync($"/v1/corpora/{corpus}/documents/v.md")).Json()).GetProperty("document").GetProperty("status").GetString()!;
            if (status != "ready")
            {
                await Task.Delay(250);
            }
        }

        Assert.Equal("ready", status);
    }

    // Dot segments never reach the route over HTTP (clients and Kestrel remove them); DocumentPathTests covers them.
    [Theory]
    [InlineData("a//b.md")]
    [InlineData("a\\b.md")]
    [InlineData("C:/x.md")]
    [InlineData("tab\there.md")]
    public async Task Bad_paths_are_400_and_store_nothing(string path)
    {
        string corpus = await CreateCorpus(_alpha);
        var response = await PutJson(_alpha, corpus, path, "# x\n\ntext\n", "text/markdown");
        await response.AssertProblem(400);
        var listed = await (await _alpha.GetAsync($"/v1/corpora/{corpus}/documents")).Json();
        Assert.Empty(listed.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Bad_documents_and_corpora_get_clear_problems()
    {
        string corpus = await CreateCorpus(_alpha);
        await (await _alpha.PostAsJsonAsync("/v1/corpora", new { name = corpus })).AssertProblem(409);
        await (await _alpha.PostAsJsonAsync("/v1/corpora", new { name = "no/slash" })).AssertProblem(400);
        await (await _alpha.PostAsJsonAsync("/v1/corpora", new { name = "sqlite-docs" })).AssertProblem(409);
        await (await Put(_alpha, corpus, "x.bin", "binary?", "application/pdf")).AssertProblem(415);
        await (await PutJson(_alpha, corpus, "x.bin", "binary?", "application/pdf")).AssertProblem(400);
        await (await PutJson(_alpha, corpus, "no-extension", "what is it?", null)).AssertProblem(400);
        await (await Put(_alpha, corpus, "x.md", "text", "text/markdown; charset=latin1")).AssertProblem(415);
        var invalid = new ByteArrayContent([0x23, 0x20, 0xC3, 0x28]) { Headers = { ContentType = new("text/markdown") } };
        await (await _alpha.PutAsync($"/v1/corpora/{corpus}/documents/bad.md", invalid)).AssertProblem(400);
        await (await Put(_alpha, "no-such-corpus", "x.md", "# x\n", "text/markdown")).AssertProblem(404);
        // The shared corpus is read-only for tenants.
        await (await Put(_alpha, "sqlite-docs", "x.md", "# x\n", "text/markdown")).AssertProblem(404);
        await (await _alpha.DeleteAsync("/v1/corpora/sqlite-docs")).AssertProblem(404);
        await (await _alpha.PostAsJsonAsync("/v1/compile", new { query = "wal", budget = 100, corpus = "no-such-corpus" })).AssertProblem(404);
    }

    [Fact]
    public async Task Deleting_a_corpus_removes_its_documents_from_retrieval()
    {
        string corpus = await CreateCorpus(_alpha);
        Assert.True((await Put(_alpha, corpus, "gone.md", "# Ephemeral\n\nThe xylophonic ephemeral marker word.\n", "text/markdown")).IsSuccessStatusCode);
        Assert.Contains((await Compile(_alpha, "xylophonic ephemeral marker")).GetProperty("citations").EnumerateArray(),
            c => c.GetProperty("path").GetString() == "gone.md");

        Assert.Equal(HttpStatusCode.NoContent, (await _alpha.DeleteAsync($"/v1/corpora/{corpus}")).StatusCode);
        Assert.DoesNotContain((await Compile(_alpha, "xylophonic ephemeral marker")).GetProperty("citations").EnumerateArray(),
            c => c.GetProperty("path").GetString() == "gone.md");
        await (await _alpha.GetAsync($"/v1/corpora/{corpus}/documents")).AssertProblem(404);
    }

    private static async Task<string> CreateCorpus(HttpClient client)
    {
        string corpus = NewCorpus();
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/v1/corpora", new { name = corpus })).StatusCode);
        return corpus;
    }

    internal static Task<HttpResponseMessage> Put(HttpClient client, string corpus, string path, string text, string mediaType)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(mediaType);
        return client.PutAsync($"/v1/corpora/{corpus}/documents/{path}", content);
    }

    private static Task<HttpResponseMessage> PutJson(HttpClient client, string corpus, string path, string text, string? mediaType)
    {
        // Each segment escaped, so that the path reaches the server as the test wrote it.
        string route = string.Join("/", path.Split('/').Select(Uri.EscapeDataString));
        return client.PutAsJsonAsync($"/v1/corpora/{corpus}/documents/{route}", new { text, mediaType });
    }

    internal static async Task<JsonElement> Compile(HttpClient client, string query, string? corpus = null)
    {
        var response = await client.PostAsJsonAsync("/v1/compile", new { query, budget = 2000, corpus });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return await response.Json();
    }
}
