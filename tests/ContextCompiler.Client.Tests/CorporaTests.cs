using System.Net;
using System.Text;
using ContextCompiler.Server.Tests;

namespace ContextCompiler.Client.Tests;

/// <summary>Corpora and documents through the typed client against the real in-process server.</summary>
public sealed class CorporaTests(SharedServer server) : IClassFixture<SharedServer>
{
    private readonly IContextCompilerClient _alpha = server.Client();

    private static string NewCorpus() => "c-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task A_corpus_and_its_documents_go_through_every_call_and_a_deleted_corpus_is_not_found()
    {
        string name = NewCorpus();
        var created = await _alpha.CreateCorpusAsync(name);
        Assert.Equal(new CorpusInfo(name, $"alpha/{name}", Owned: true, Shared: false, created.CreatedAt, 0, 0), created);
        var listed = await _alpha.ListCorporaAsync();
        Assert.Contains(listed, c => c.Name == name && c.Owned);
        Assert.Contains(listed, c => c.Name == "sqlite-docs" && c.Shared && !c.Owned);

        // CRLF, a tab and an astral character: the text must come back byte for byte.
        const string markdown = "# Quasar lint\r\n\r\nThe\tvorpal quasar linter flags 🦀 crabs in headings.\r\n";
        var put = await _alpha.PutDocumentAsync(name, "guides/quasar lint.md", markdown, "text/markdown");
        Assert.True(put.Created);
        Assert.True(put.Changed);
        Assert.Equal("guides/quasar lint.md", put.Document.Path);
        Assert.Equal(name, put.Document.Corpus);
        Assert.Equal("text/markdown", put.Document.MediaType);
        Assert.Equal(Encoding.UTF8.GetByteCount(markdown), put.Document.Bytes);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(markdown))), put.Document.ContentHash);
        Assert.Contains(put.Document.Status, new[] { DocumentStatuses.Indexing, DocumentStatuses.Ready });

        var got = await _alpha.GetDocumentAsync(name, "guides/quasar lint.md");
        Assert.Equal(markdown, got.Text);
        Assert.Equal(put.Document.ContentHash, got.Document.ContentHash);

        var again = await _alpha.PutDocumentAsync(name, "guides/quasar lint.md", markdown, "text/markdown");
        Assert.False(again.Created);
        Assert.False(again.Changed);

        // Read your writes: the next compile finds it, cited by the tenant's corpus key.
        var set = await _alpha.CompileAsync(new CompileRequest("vorpal quasar linter", 1000, Corpus: name));
        var citation = Assert.Single(set.Citations);
        Assert.Equal(($"alpha/{name}", "guides/quasar lint.md"), (citation.Corpus, citation.Path));

        await _alpha.DeleteDocumentAsync(name, "guides/quasar lint.md");
        Assert.Empty((await _alpha.CompileAsync(new CompileRequest("vorpal quasar linter", 1000, Corpus: name))).Citations);
        await Assert.ThrowsAsync<NotFoundException>(() => _alpha.GetDocumentAsync(name, "guides/quasar lint.md"));

        await _alpha.DeleteCorpusAsync(name);
        Assert.DoesNotContain(await _alpha.ListCorporaAsync(), c => c.Name == name);
        var gone = await Assert.ThrowsAsync<NotFoundException>(() => _alpha.ListDocumentsAsync(name));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Contains(name, gone.Detail, StringComparison.Ordinal);
        await Assert.ThrowsAsync<NotFoundException>(() => _alpha.DeleteCorpusAsync(name));
    }

    [Fact]
    public async Task Documents_page_with_a_cursor_and_a_prefix()
    {
        string name = NewCorpus();
        await _alpha.CreateCorpusAsync(name);
        foreach (var path in new[] { "b/2.md", "a/1.md", "b/1.md", "c.md" })
        {
            await _alpha.PutDocumentAsync(name, path, $"# {path}\n\nWords about {path}.\n", "text/markdown");
        }

        var first = await _alpha.ListDocumentsAsync(name, limit: 3);
        Assert.Equal(["a/1.md", "b/1.md", "b/2.md"], first.Items.Select(d => d.Path));
        Assert.NotNull(first.NextCursor);
        var rest = await _alpha.ListDocumentsAsync(name, limit: 3, cursor: first.NextCursor);
        Assert.Equal(["c.md"], rest.Items.Select(d => d.Path));
        Assert.Null(rest.NextCursor);

        var prefixed = await _alpha.ListDocumentsAsync(name, prefix: "b/");
        Assert.Equal(["b/1.md", "b/2.md"], prefixed.Items.Select(d => d.Path));
        Assert.All(prefixed.Items, d => Assert.True(d.Spans >= 1 && d.Tokens > 0));
    }

    [Fact]
    public async Task Paths_with_spaces_percent_signs_and_accents_reach_the_server_as_written()
    {
        string name = NewCorpus();
        await _alpha.CreateCorpusAsync(name);
        foreach (var path in new[] { "notes/50% off.md", "café/naïve résumé.md", "q/a?b#c.md" })
        {
            var put = await _alpha.PutDocumentAsync(name, path, $"# Title\n\nText of {path}.\n", "text/markdown");
            Assert.Equal(path, put.Document.Path);
            Assert.Equal($"# Title\n\nText of {path}.\n", (await _alpha.GetDocumentAsync(name, path)).Text);
        }

        Assert.Equal(["café/naïve résumé.md", "notes/50% off.md", "q/a?b#c.md"], (await _alpha.ListDocumentsAsync(name)).Items.Select(d => d.Path));
    }

    [Fact]
    public async Task Without_a_media_type_the_extension_decides_and_none_is_stored()
    {
        string name = NewCorpus();
        await _alpha.CreateCorpusAsync(name);
        var put = await _alpha.PutDocumentAsync(name, "src/main.py", "def main():\n    return 42\n");
        Assert.True(put.Created);
        Assert.Null(put.Document.MediaType);
        await Assert.ThrowsAsync<InvalidRequestException>(() => _alpha.PutDocumentAsync(name, "no-extension", "what is it?"));
    }

    [Theory]
    [InlineData("a//b.md")]
    [InlineData("a/../b.md")]
    [InlineData("./b.md")]
    [InlineData("/b.md")]
    public async Task Dot_and_empty_segments_are_refused_before_sending(string path)
    {
        // Uri would remove dot segments, and the document would be stored at another path than the caller named.
        await Assert.ThrowsAsync<ArgumentException>(() => _alpha.PutDocumentAsync("any", path, "# x\n", "text/markdown"));
    }

    [Fact]
    public async Task Errors_arrive_as_typed_exceptions()
    {
        string name = NewCorpus();
        await _alpha.CreateCorpusAsync(name);

        var taken = await Assert.ThrowsAsync<ConflictException>(() => _alpha.CreateCorpusAsync(name));
        Assert.IsNotType<QuotaExceededException>(taken);
        await Assert.ThrowsAsync<ConflictException>(() => _alpha.CreateCorpusAsync("sqlite-docs"));
        await Assert.ThrowsAsync<InvalidRequestException>(() => _alpha.CreateCorpusAsync("no spaces"));
        await Assert.ThrowsAsync<NotFoundException>(() => _alpha.PutDocumentAsync("no-such-corpus", "x.md", "# x\n", "text/markdown"));
        // The shared corpus is read-only: to a write it does not exist.
        await Assert.ThrowsAsync<NotFoundException>(() => _alpha.PutDocumentAsync("sqlite-docs", "x.md", "# x\n", "text/markdown"));
        await Assert.ThrowsAsync<NotFoundException>(() => _alpha.DeleteDocumentAsync(name, "never-stored.md"));
        var unsupported = await Assert.ThrowsAsync<UnsupportedMediaTypeException>(() => _alpha.PutDocumentAsync(name, "x.pdf", "%PDF", "application/pdf"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, unsupported.StatusCode);
        await Assert.ThrowsAsync<InvalidRequestException>(() => _alpha.ListDocumentsAsync(name, limit: 0));
    }

    [Fact]
    public async Task Another_tenants_corpus_is_not_found_and_not_searched()
    {
        string name = NewCorpus();
        await _alpha.CreateCorpusAsync(name);
        await _alpha.PutDocumentAsync(name, "secret.md", "# Private\n\nThe zygomorphic heliotrope password.\n", "text/markdown");
        var beta = server.Client(ServerFactory.BetaKey);

        Assert.DoesNotContain(await beta.ListCorporaAsync(), c => c.Name == name);
        await Assert.ThrowsAsync<NotFoundException>(() => beta.GetDocumentAsync(name, "secret.md"));
        await Assert.ThrowsAsync<NotFoundException>(() => beta.ListDocumentsAsync(name));
        await Assert.ThrowsAsync<NotFoundException>(() => beta.PutDocumentAsync(name, "secret.md", "# Mine\n", "text/markdown"));
        await Assert.ThrowsAsync<NotFoundException>(() => beta.DeleteCorpusAsync(name));
        await Assert.ThrowsAsync<NotFoundException>(() => beta.CompileAsync(new CompileRequest("zygomorphic heliotrope", 500, Corpus: name)));
        Assert.DoesNotContain((await beta.CompileAsync(new CompileRequest("zygomorphic heliotrope password", 2000))).Citations, c => c.Path == "secret.md");

        // Beta may have a corpus of the same name: corpora are named per tenant.
        var own = await beta.CreateCorpusAsync(name);
        Assert.Equal($"beta/{name}", own.Key);
        Assert.Equal("# Private\n\nThe zygomorphic heliotrope password.\n", (await _alpha.GetDocumentAsync(name, "secret.md")).Text);
    }

    [Fact]
    public async Task Recompile_names_the_stored_citations_whose_document_changed()
    {
        string name = NewCorpus();
        await _alpha.CreateCorpusAsync(name);
        await _alpha.PutDocumentAsync(name, "moon.md", "# Selenite\n\nThe selenite gauge reads lunar tides at noon.\n", "text/markdown");
        var session = await _alpha.CreateSessionAsync();
        var turn = await _alpha.TakeTurnAsync(session.Id, new TurnRequest("selenite gauge lunar tides", ContextBudget: 300));
        var cited = Assert.Single(turn.WorkingSet.Value.Citations, c => c.Path == "moon.md");

        var before = Assert.Single((await _alpha.RecompileAsync(session.Id)).Turns);
        Assert.Empty(before.StaleCitations);

        await _alpha.PutDocumentAsync(name, "moon.md", "# Selenite\n\nThe selenite gauge was retired.\n", "text/markdown");
        var stale = Assert.Single(Assert.Single((await _alpha.RecompileAsync(session.Id)).Turns).StaleCitations);
        Assert.Equal(new StaleCitation(cited.N, $"alpha/{name}", "moon.md", cited.StartLine, cited.EndLine, "changed"), stale);
    }

    [Fact]
    public async Task A_folder_uploads_file_by_file_and_a_second_run_changes_nothing()
    {
        string name = NewCorpus();
        await _alpha.CreateCorpusAsync(name);
        var folder = Directory.CreateTempSubdirectory("contextc-upload-");
        try
        {
            Directory.CreateDirectory(Path.Combine(folder.FullName, "guide"));
            Directory.CreateDirectory(Path.Combine(folder.FullName, ".git"));
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "index.md"), "# Index\n\nStart here.\n");
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "guide", "setup.md"), "# Setup\n\nInstall it.\n");
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "guide", "notes.txt"), "not markdown\n");
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, ".git", "HEAD.md"), "# hidden\n");

            var first = await _alpha.UploadFolderAsync(name, folder.FullName, "*.md");
            Assert.Equal(["guide/setup.md", "index.md"], first.Written.Select(w => w.Document.Path));
            Assert.Equal(2, first.Created);

            var second = await _alpha.UploadFolderAsync(name, folder.FullName, "*.md");
            Assert.Equal((0, 0, 2), (second.Created, second.Replaced, second.Unchanged));
            Assert.Equal(["guide/setup.md", "index.md"], (await _alpha.ListDocumentsAsync(name)).Items.Select(d => d.Path));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}

/// <summary>A server with small corpus limits, so that the limits can be reached.</summary>
public sealed class SmallLimitsServer : IDisposable
{
    public const int MaxDocumentBytes = 1024;

    public ServerFactory Factory { get; } = new(ServerFactory.NewFolder(), new Dictionary<string, string>
    {
        ["ContextCompiler:Corpora:MaxDocumentBytes"] = MaxDocumentBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["ContextCompiler:Corpora:MaxDocumentsPerTenant"] = "3",
        ["ContextCompiler:Corpora:MaxCorporaPerTenant"] = "2",
    });

    public void Dispose()
    {
        Factory.Dispose();
        Factory.DeleteFolder();
    }
}

/// <summary>Limits reached through the client: typed exceptions, and nothing stored.</summary>
public sealed class CorpusLimitTests(SmallLimitsServer server) : IClassFixture<SmallLimitsServer>
{
    private readonly IContextCompilerClient _client = Client(server);

    private static IContextCompilerClient Client(SmallLimitsServer server)
    {
        server.Factory.Client().Dispose();
        return Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<IContextCompilerClient>(TestClients.Provider(server.Factory));
    }

    [Fact]
    public async Task Limits_are_typed_exceptions_and_store_nothing()
    {
        var corpus = await _client.CreateCorpusAsync("limits");

        var large = await Assert.ThrowsAsync<PayloadTooLargeException>(() =>
            _client.PutDocumentAsync(corpus.Name, "big.md", "# Big\n\n" + new string('x', SmallLimitsServer.MaxDocumentBytes), "text/markdown"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        Assert.Contains($"at most {SmallLimitsServer.MaxDocumentBytes}", large.Detail, StringComparison.Ordinal);
        Assert.Empty((await _client.ListDocumentsAsync(corpus.Name)).Items);

        for (int i = 0; i < 3; i++)
        {
            await _client.PutDocumentAsync(corpus.Name, $"{i}.md", $"# Doc {i}\n\nSmall.\n", "text/markdown");
        }

        var documents = await Assert.ThrowsAsync<QuotaExceededException>(() => _client.PutDocumentAsync(corpus.Name, "3.md", "# Doc 3\n\nOne too many.\n", "text/markdown"));
        Assert.Equal(HttpStatusCode.Conflict, documents.StatusCode);
        Assert.Equal(3, (await _client.ListDocumentsAsync(corpus.Name)).Items.Count);
        // Replacing a document is not one more.
        Assert.True((await _client.PutDocumentAsync(corpus.Name, "0.md", "# Doc 0\n\nReplaced.\n", "text/markdown")).Changed);

        await _client.CreateCorpusAsync("second");
        await Assert.ThrowsAsync<QuotaExceededException>(() => _client.CreateCorpusAsync("third"));
        Assert.Equal(["limits", "second"], (await _client.ListCorporaAsync()).Where(c => c.Owned).Select(c => c.Name));
    }
}
