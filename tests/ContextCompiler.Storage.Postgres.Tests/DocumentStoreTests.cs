using ContextCompiler.Engine.Corpora;

namespace ContextCompiler.Storage.Postgres.Tests;

/// <summary>PostgresDocumentStore against a real PGlite: exact text, unchanged writes, quotas under concurrent writers, paging.</summary>
[Collection(MigratedCollection.Name)]
public sealed class DocumentStoreTests(MigratedDatabase fixture)
{
    [PgliteFact]
    public void A_document_comes_back_exactly_as_it_was_sent()
    {
        var stores = new Stores(fixture.Database);
        stores.Corpora.Create("doc-a", "exact-docs");
        // NUL, lone surrogates of both kinds, a pair, CRLF and a BOM: none of them may change on the way back.
        string text = "\uFEFF# Title\r\n\r\nNUL \0 here, lone \uD800 high and \uDC00 low, pair \uD83D\uDE00.\r\nLast line";

        var first = stores.Documents.Put("doc-a", "exact-docs", "guide/exact.md", text, "text/markdown");
        Assert.True(first.Created);
        Assert.True(first.Changed);
        Assert.Equal("exact-docs", first.Document.Corpus);
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(text), first.Document.Bytes);
        Assert.True(first.Document.Spans > 0);
        Assert.Equal(DocumentStatus.Indexing, first.Document.Status);

        var stored = stores.Documents.Get("doc-a", "exact-docs", "guide/exact.md");
        Assert.Equal(text, stored.Text);
        Assert.Equal("text/markdown", stored.Document.MediaType);

        // The same text again writes nothing; another media type is another document.
        var again = stores.Documents.Put("doc-a", "exact-docs", "guide/exact.md", text, "text/markdown");
        Assert.False(again.Changed);
        Assert.False(again.Created);
        Assert.Equal(first.Document, again.Document);
        var artifact = stores.Index.Artifacts("doc-a/exact-docs")["guide/exact.md"];
        var retyped = stores.Documents.Put("doc-a", "exact-docs", "guide/exact.md", text, "text/plain");
        Assert.True(retyped.Changed);
        Assert.False(retyped.Created);
        Assert.NotEqual(artifact.Id, stores.Index.Artifacts("doc-a/exact-docs")["guide/exact.md"].Id);

        // Readable, not writable, by another tenant once shared; not found before.
        Assert.Throws<CorpusNotFoundException>(() => stores.Documents.Get("doc-b", "exact-docs", "guide/exact.md"));
        stores.Corpora.SetShared("doc-a/exact-docs", true);
        Assert.Equal(text, stores.Documents.Get("doc-b", "exact-docs", "guide/exact.md").Text);
        Assert.Throws<CorpusNotFoundException>(() => stores.Documents.Put("doc-b", "exact-docs", "x.md", "text", null));
        Assert.Throws<CorpusNotFoundException>(() => stores.Documents.Delete("doc-b", "exact-docs", "guide/exact.md"));

        var written = stores.Documents.LastWritten([("doc-a/exact-docs", "guide/exact.md"), ("doc-a/exact-docs", "missing.md")]);
        Assert.Equal(retyped.Document.UpdatedAt, written[("doc-a/exact-docs", "guide/exact.md")]);
        Assert.Null(written[("doc-a/exact-docs", "missing.md")]);

        stores.Documents.Delete("doc-a", "exact-docs", "guide/exact.md");
        Assert.Throws<DocumentNotFoundException>(() => stores.Documents.Get("doc-a", "exact-docs", "guide/exact.md"));
        Assert.Throws<DocumentNotFoundException>(() => stores.Documents.Delete("doc-a", "exact-docs", "guide/exact.md"));
        Assert.Empty(stores.Index.Artifacts("doc-a/exact-docs"));
    }

    [PgliteFact]
    public void Bad_writes_fail_as_in_the_SQLite_store()
    {
        var stores = new Stores(fixture.Database, new CorpusLimits { MaxDocumentBytes = 50 });
        stores.Corpora.Create("doc-bad", "docs");
        Assert.Throws<ArgumentException>(() => stores.Documents.Put("doc-bad", "docs", "../up.md", "text", null));
        Assert.Throws<ArgumentException>(() => stores.Documents.Put("doc-bad", "docs", "a.bin", "text", "image/png"));
        Assert.Throws<ArgumentException>(() => stores.Documents.Put("doc-bad", "docs", "blank.md", "  \n ", null));
        Assert.Throws<DocumentTooLargeException>(() => stores.Documents.Put("doc-bad", "docs", "big.md", new string('x', 51), null));
        Assert.Throws<CorpusNotFoundException>(() => stores.Documents.Put("doc-bad", "nope", "a.md", "text", null));
        Assert.Empty(stores.Index.Artifacts("doc-bad/docs"));
    }

    [PgliteFact]
    public async Task Quotas_hold_when_two_replicas_write_at_once()
    {
        var limits = new CorpusLimits { MaxDocumentsPerTenant = 3, MaxBytesPerTenant = 100 };
        await using var secondDatabase = await Stores.SecondReplicaAsync(fixture);
        var replicas = new[] { new Stores(fixture.Database, limits), new Stores(secondDatabase, limits) };
        replicas[0].Corpora.Create("doc-quota", "docs");
        replicas[0].Corpora.Create("doc-bytes", "docs");

        var documents = await PutAllAsync(replicas, "doc-quota", 10, i => $"document number {i}");
        Assert.Equal(3, documents.Count(o => o == "stored"));
        Assert.Equal(7, documents.Count(o => o == "quota"));
        Assert.Equal(3, replicas[1].Index.Artifacts("doc-quota/docs").Count);

        // 30 bytes each against 100: three fit.
        var bytes = await PutAllAsync(replicas, "doc-bytes", 6, i => $"{i}{new string('b', 29)}");
        Assert.Equal(3, bytes.Count(o => o == "stored"));
        Assert.Equal(90, replicas[0].Corpora.List("doc-bytes").Single(c => c.Owned).Bytes);

        // Replacing a document makes way for its new version: no quota error at the limit.
        string path = replicas[0].Index.Artifacts("doc-quota/docs").Keys.First();
        Assert.True(replicas[1].Documents.Put("doc-quota", "docs", path, "a new version", null).Changed);
    }

    [PgliteFact]
    public void Lists_page_in_path_order_with_a_cursor_and_a_prefix()
    {
        var stores = new Stores(fixture.Database);
        stores.Corpora.Create("doc-list", "docs");
        foreach (string path in (string[])["b/2.md", "a/1.md", "b/1.md", "c.md", "b%/x.md"])
        {
            stores.Documents.Put("doc-list", "docs", path, $"text of {path}", null);
        }

        var pages = new List<IReadOnlyList<string>>();
        string? cursor = null;
        do
        {
            var page = stores.Documents.List("doc-list", "docs", null, 2, cursor);
            pages.Add([.. page.Items.Select(d => d.Path)]);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        Assert.Equal([["a/1.md", "b%/x.md"], ["b/1.md", "b/2.md"], ["c.md"]], pages);
        Assert.Equal(["b/1.md", "b/2.md"], stores.Documents.List("doc-list", "docs", "b/", null, null).Items.Select(d => d.Path));
        Assert.Equal(["b%/x.md"], stores.Documents.List("doc-list", "docs", "b%", null, null).Items.Select(d => d.Path));
        Assert.All(stores.Documents.ListByKey("doc-list/docs", null, 10, null).Items, d => Assert.Equal("docs", d.Corpus));
        Assert.Throws<ArgumentException>(() => stores.Documents.List("doc-list", "docs", null, 0, null));
        Assert.Throws<ArgumentException>(() => stores.Documents.List("doc-list", "docs", null, 10, "!!"));
        Assert.Throws<CorpusNotFoundException>(() => stores.Documents.List("doc-other", "docs", null, 10, null));
        Assert.Throws<CorpusNotFoundException>(() => stores.Documents.ListByKey("doc-other/docs", null, 10, null));
    }

    private static async Task<string[]> PutAllAsync(Stores[] replicas, string tenant, int count, Func<int, string> text) =>
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => Task.Run(() =>
        {
            try
            {
                replicas[i % 2].Documents.Put(tenant, "docs", $"d{i}.md", text(i), null);
                return "stored";
            }
            catch (QuotaExceededException)
            {
                return "quota";
            }
        })));
}
