using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace ContextCompiler.Server.Tests;

/// <summary>Per-document size and per-tenant quotas, each a clear problem that writes nothing, on a server with small limits.</summary>
public sealed class CorpusQuotaTests : IDisposable
{
    private readonly ServerFactory _factory = new(ServerFactory.NewFolder(), new Dictionary<string, string>
    {
        ["ContextCompiler:Corpora:MaxDocumentBytes"] = "2000",
        ["ContextCompiler:Corpora:MaxDocumentsPerTenant"] = "3",
        ["ContextCompiler:Corpora:MaxBytesPerTenant"] = "2500",
        ["ContextCompiler:Corpora:MaxCorporaPerTenant"] = "2",
    });

    [Fact]
    public async Task A_document_over_the_size_limit_is_a_413_and_is_not_stored()
    {
        var alpha = _factory.Client();
        await Create(alpha, "big");
        var response = await CorporaApiTests.Put(alpha, "big", "large.md", "# Large\n\n" + new string('x', 2100), "text/markdown");
        var problem = await response.AssertProblem(413);
        Assert.Contains("2000", problem.GetProperty("detail").GetString());
        await (await alpha.GetAsync("/v1/corpora/big/documents/large.md")).AssertProblem(404);

        // The same limit holds for the JSON form, where escaping makes the body larger than the text.
        var json = await alpha.PutAsJsonAsync("/v1/corpora/big/documents/large.md", new { text = new string('x', 2100), mediaType = "text/markdown" });
        await json.AssertProblem(413);
    }

    [Fact]
    public async Task Documents_bytes_and_corpora_per_tenant_are_409s_and_another_tenant_is_not_affected()
    {
        var alpha = _factory.Client();
        await Create(alpha, "one");
        await Create(alpha, "two");
        var third = await alpha.PostAsJsonAsync("/v1/corpora", new { name = "three" });
        Assert.Contains("2", (await third.AssertProblem(409)).GetProperty("detail").GetString());

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await CorporaApiTests.Put(alpha, "one", $"d{i}.md", $"# Doc {i}\n\nShort.\n", "text/markdown")).StatusCode);
        }

        var fourth = await CorporaApiTests.Put(alpha, "two", "d3.md", "# Doc 3\n\nShort.\n", "text/markdown");
        Assert.Contains("documents", (await fourth.AssertProblem(409)).GetProperty("detail").GetString());
        // Replacing a stored document is not a new one: it fits the document count.
        Assert.Equal(HttpStatusCode.OK, (await CorporaApiTests.Put(alpha, "one", "d0.md", "# Doc 0\n\nLonger now.\n", "text/markdown")).StatusCode);

        // Bytes: 3 documents already hold some; one that would pass 2500 in all is refused even as a replacement.
        var heavy = await CorporaApiTests.Put(alpha, "one", "d1.md", "# Heavy\n\n" + new string('y', 1990), "text/markdown");
        Assert.Equal(HttpStatusCode.OK, heavy.StatusCode);
        var heavier = await CorporaApiTests.Put(alpha, "one", "d2.md", "# Heavier\n\n" + new string('z', 1900), "text/markdown");
        Assert.Contains("bytes", (await heavier.AssertProblem(409)).GetProperty("detail").GetString());
        var kept = await (await alpha.GetAsync("/v1/corpora/one/documents/d2.md")).Json();
        Assert.Equal("# Doc 2\n\nShort.\n", kept.GetProperty("text").GetString());

        // Quotas are per tenant.
        var beta = _factory.Client(ServerFactory.BetaKey);
        await Create(beta, "one");
        Assert.Equal(HttpStatusCode.Created, (await CorporaApiTests.Put(beta, "one", "d0.md", "# Beta\n\nMine.\n", "text/markdown")).StatusCode);

        // Deleting frees the quota.
        Assert.Equal(HttpStatusCode.NoContent, (await alpha.DeleteAsync("/v1/corpora/one/documents/d1.md")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await CorporaApiTests.Put(alpha, "two", "d3.md", "# Doc 3\n\nShort.\n", "text/markdown")).StatusCode);
    }

    public void Dispose()
    {
        _factory.Dispose();
        _factory.DeleteFolder();
    }

    private static async Task Create(HttpClient client, string name) =>
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/v1/corpora", new { name })).StatusCode);
}
