using System.CommandLine;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ContextCompiler.Cli.Commands;

namespace ContextCompiler.Server.Tests;

/// <summary><c>contextc corpora</c> and <c>contextc ingest --tenant</c> run in-process against the database a real server uses.</summary>
public sealed class CorporaCommandTests(SharedServer server) : IClassFixture<SharedServer>
{
    private readonly HttpClient _alpha = server.Factory.Client();
    private readonly HttpClient _beta = server.Factory.Client(ServerFactory.BetaKey);

    private static string NewCorpus() => "c-" + Guid.NewGuid().ToString("N")[..12];

    private Task<(int Exit, string Output, string Error)> Corpora(params string[] args) => Contextc(CorporaCommand.Create(), args);

    private async Task<(int Exit, string Output, string Error)> Contextc(Command command, string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exit = await command.Parse([.. args, "--db", server.Factory.DatabasePath]).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    private async Task<string> AlphaCorpusWith(params string[] paths)
    {
        string corpus = NewCorpus();
        Assert.Equal(HttpStatusCode.Created, (await _alpha.PostAsJsonAsync("/v1/corpora", new { name = corpus })).StatusCode);
        foreach (var path in paths)
        {
            Assert.True((await CorporaApiTests.Put(_alpha, corpus, path, $"# {path}\n\nThe corundum marker of {path}.\n", "text/markdown")).IsSuccessStatusCode);
        }

        return corpus;
    }

    [Fact]
    public async Task List_without_a_tenant_shows_every_corpus_with_its_owner()
    {
        string corpus = await AlphaCorpusWith("a.md");
        var (exit, output, error) = await Corpora("list", "--json");

        Assert.True(exit == 0, error);
        var items = JsonDocument.Parse(output).RootElement.GetProperty("items").EnumerateArray().ToList();
        var shared = Assert.Single(items, c => c.GetProperty("key").GetString() == "sqlite-docs");
        Assert.False(shared.TryGetProperty("tenant", out _));
        Assert.True(shared.GetProperty("shared").GetBoolean());
        Assert.Equal(5, shared.GetProperty("documents").GetInt32());
        var own = Assert.Single(items, c => c.GetProperty("key").GetString() == $"alpha/{corpus}");
        Assert.Equal(("alpha", corpus, false, 1), (own.GetProperty("tenant").GetString(), own.GetProperty("name").GetString(),
            own.GetProperty("shared").GetBoolean(), own.GetProperty("documents").GetInt32()));

        var (_, table, _) = await Corpora("list");
        Assert.Matches($@"(?m)^alpha/{corpus}\s+alpha\s+private\s+1 docs\s+\d+ bytes$", table);
        Assert.Matches(@"(?m)^sqlite-docs\s+\(operator\)\s+shared\s+5 docs", table);
    }

    [Fact]
    public async Task List_for_a_tenant_is_what_that_tenant_reads_over_http()
    {
        string corpus = await AlphaCorpusWith("a.md");
        var (exit, output, error) = await Corpora("list", "--tenant", "beta", "--json");
        Assert.True(exit == 0, error);
        var names = JsonDocument.Parse(output).RootElement.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToList();
        Assert.DoesNotContain(corpus, names);
        Assert.Contains("sqlite-docs", names);

        var (_, alpha, _) = await Corpora("list", "--tenant", "alpha", "--json");
        Assert.Equal(
            (await (await _alpha.GetAsync("/v1/corpora")).Json()).GetProperty("items").GetRawText(),
            JsonDocument.Parse(alpha).RootElement.GetProperty("items").GetRawText());
    }

    [Fact]
    public async Task Documents_lists_by_tenant_and_name_or_by_key_with_a_prefix()
    {
        string corpus = await AlphaCorpusWith("guide/b.md", "guide/a.md", "readme.md");

        var (exit, output, error) = await Corpora("documents", corpus, "--tenant", "alpha", "--prefix", "guide/", "--json");
        Assert.True(exit == 0, error);
        var items = JsonDocument.Parse(output).RootElement.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["guide/a.md", "guide/b.md"], items.Select(d => d.GetProperty("path").GetString()));
        Assert.All(items, d => Assert.Equal(corpus, d.GetProperty("corpus").GetString()));

        var (byKey, table, _) = await Corpora("documents", $"alpha/{corpus}");
        Assert.Equal(0, byKey);
        var lines = table.TrimEnd().Split('\n');
        Assert.Equal(["guide/a.md", "guide/b.md", "readme.md"], lines[..3].Select(l => l.Split("  ")[0]));
        Assert.StartsWith("3 documents, ", lines[3]);

        // Beta cannot read alpha's corpus by name: as over HTTP, it is not found.
        var (denied, empty, message) = await Corpora("documents", corpus, "--tenant", "beta");
        Assert.Equal(3, denied);
        Assert.Empty(empty);
        Assert.Equal($"contextc: error: Corpus '{corpus}' was not found.", message.TrimEnd());
    }

    [Fact]
    public async Task Share_lets_every_tenant_read_a_corpus_but_not_write_it_and_off_takes_it_back()
    {
        string corpus = await AlphaCorpusWith("gem.md");
        var compile = new { query = "corundum marker", budget = 500, corpus };
        await (await _beta.PostAsJsonAsync("/v1/compile", compile)).AssertProblem(404);

        var (exit, output, error) = await Corpora("share", $"alpha/{corpus}");
        Assert.True(exit == 0, error);
        Assert.Contains("is shared", output);
        var set = await (await _beta.PostAsJsonAsync("/v1/compile", compile)).Json();
        Assert.Equal($"alpha/{corpus}", Assert.Single(set.GetProperty("citations").EnumerateArray()).GetProperty("corpus").GetString());
        await (await CorporaApiTests.Put(_beta, corpus, "gem.md", "# mine\n", "text/markdown")).AssertProblem(404);

        Assert.Equal(0, (await Corpora("share", $"alpha/{corpus}", "--off")).Exit);
        await (await _beta.PostAsJsonAsync("/v1/compile", compile)).AssertProblem(404);
        // The owner still reads it.
        Assert.NotEmpty((await CorporaApiTests.Compile(_alpha, "corundum marker", corpus)).GetProperty("citations").EnumerateArray());
    }

    [Fact]
    public async Task Share_of_an_unknown_key_is_a_not_found_error_and_exit_code_3()
    {
        var (exit, _, error) = await Corpora("share", "nobody/nothing");
        Assert.Equal(3, exit);
        Assert.Equal("contextc: error: Corpus 'nobody/nothing' was not found.", error.TrimEnd());
    }

    [Fact]
    public async Task Ingest_with_a_tenant_fills_that_tenants_own_corpus_and_no_one_elses()
    {
        string corpus = NewCorpus();
        var folder = Directory.CreateTempSubdirectory("contextc-ingest-tenant-");
        try
        {
            Directory.CreateDirectory(Path.Combine(folder.FullName, "ops"));
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "ops", "runbook.md"), "# Runbook\n\nRestart the phlogiston turbine weekly.\n");
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "intro.md"), "# Intro\n\nWelcome.\n");

            var (exit, output, error) = await Contextc(IngestCommand.Create(), [folder.FullName, "--tenant", "alpha", "--corpus", corpus, "--json"]);
            Assert.True(exit == 0, error);
            var report = JsonDocument.Parse(output).RootElement;
            Assert.Equal($"alpha/{corpus}", report.GetProperty("corpus").GetString());
            Assert.Equal(2, report.GetProperty("added").GetInt32());

            var listed = (await (await _alpha.GetAsync("/v1/corpora")).Json()).GetProperty("items").EnumerateArray();
            var own = Assert.Single(listed, c => c.GetProperty("name").GetString() == corpus);
            Assert.True(own.GetProperty("owned").GetBoolean());
            Assert.False(own.GetProperty("shared").GetBoolean());
            Assert.Equal(2, own.GetProperty("documents").GetInt32());

            var set = await CorporaApiTests.Compile(_alpha, "phlogiston turbine", corpus);
            var citation = Assert.Single(set.GetProperty("citations").EnumerateArray());
            Assert.Equal(($"alpha/{corpus}", "ops/runbook.md"), (citation.GetProperty("corpus").GetString(), citation.GetProperty("path").GetString()));
            await (await _beta.PostAsJsonAsync("/v1/compile", new { query = "phlogiston turbine", budget = 500, corpus })).AssertProblem(404);
            Assert.DoesNotContain((await CorporaApiTests.Compile(_beta, "phlogiston turbine weekly")).GetProperty("citations").EnumerateArray(),
                c => c.GetProperty("path").GetString() == "ops/runbook.md");

            // A second run into the existing corpus finds everything unchanged.
            var (again, second, _) = await Contextc(IngestCommand.Create(), [folder.FullName, "--tenant", "alpha", "--corpus", corpus, "--json"]);
            Assert.Equal(0, again);
            Assert.Equal(2, JsonDocument.Parse(second).RootElement.GetProperty("unchanged").GetInt32());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Ingest_with_a_tenant_refuses_a_shared_corpus_name_and_a_missing_folder()
    {
        var folder = Directory.CreateTempSubdirectory("contextc-ingest-tenant-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "x.md"), "# x\n\ntext\n");
            var (exit, _, error) = await Contextc(IngestCommand.Create(), [folder.FullName, "--tenant", "alpha", "--corpus", "sqlite-docs"]);
            Assert.Equal(4, exit);
            Assert.Equal("contextc: error: A corpus named 'sqlite-docs' exists already.", error.TrimEnd());

            string corpus = NewCorpus();
            var (missing, _, why) = await Contextc(IngestCommand.Create(), [Path.Combine(folder.FullName, "nope"), "--tenant", "alpha", "--corpus", corpus]);
            // A missing folder is an I/O failure, the general exit code.
            Assert.Equal(1, missing);
            Assert.StartsWith("contextc: error: ", why);
            Assert.DoesNotContain((await (await _alpha.GetAsync("/v1/corpora")).Json()).GetProperty("items").EnumerateArray(),
                c => c.GetProperty("name").GetString() == corpus);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
