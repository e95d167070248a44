using ContextCompiler.Core.Retrieve;
using ContextCompiler.Engine.Corpora;
using Microsoft.Extensions.DependencyInjection;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Engine.Tests.Corpora;

/// <summary>Documents through the composition root over a real index file, read back through the in-memory copy retrieval uses.</summary>
public sealed class DocumentStoreTests : IDisposable
{
    private readonly TempIndex _index = new();
    private readonly ServiceProvider _engine;

    public DocumentStoreTests() =>
        _engine = new ServiceCollection()
            .AddSingleton(TempIndex.Embedders)
            .AddContextCompiler(new ContextCompilerOptions { DatabasePath = _index.DatabasePath })
            .BuildServiceProvider();

    [Fact]
    public void A_replaced_document_is_searched_by_its_new_text_even_when_its_spans_get_the_old_ids()
    {
        var documents = _engine.GetRequiredService<IDocumentStore>();
        _engine.GetRequiredService<ICorpusStore>().Create("t", "docs");
        documents.Put("t", "docs", "a.md", "# A\n\nThe zanzibar capacitor.\n", "text/markdown");
        documents.Put("t", "docs", "b.md", "# B\n\nThe quorbic flux.\n", "text/markdown");
        Assert.Equal(["b.md"], Search("quorbic"));

        // b.md holds the highest span ids; SQLite hands freed top ids to the next insert, so its new spans reuse them.
        documents.Put("t", "docs", "b.md", "# B\n\nThe xylophone engine.\n", "text/markdown");
        Assert.Empty(Search("quorbic"));
        Assert.Equal(["b.md"], Search("xylophone"));
        Assert.Equal(["a.md"], Search("zanzibar"));

        documents.Delete("t", "docs", "b.md");
        Assert.Empty(Search("xylophone"));
        documents.Put("t", "docs", "c.md", "# C\n\nThe quorbic flux again.\n", "text/markdown");
        Assert.Equal(["c.md"], Search("quorbic"));
    }

    [Fact]
    public void A_repeat_put_changes_nothing_and_a_corpus_the_tenant_does_not_own_is_not_found()
    {
        var documents = _engine.GetRequiredService<IDocumentStore>();
        _engine.GetRequiredService<ICorpusStore>().Create("t", "docs");
        var first = documents.Put("t", "docs", "a.md", "# A\n\ntext\n", "text/markdown");
        var again = documents.Put("t", "docs", "a.md", "# A\n\ntext\n", "text/markdown");
        Assert.True(first.Created && first.Changed);
        Assert.False(again.Created || again.Changed);
        Assert.Equal(first.Document.ContentHash, again.Document.ContentHash);
        Assert.Throws<CorpusNotFoundException>(() => documents.Put("other", "docs", "a.md", "# A\n", "text/markdown"));
    }

    [Fact]
    public async Task Vectors_written_after_the_text_join_the_copy_without_rebuilding_its_text_index()
    {
        _index.Write("a.md", "# A\n\nThe zanzibar capacitor.\n");
        _index.Write("b.md", "# B\n\nThe quorbic flux.\n");
        // Text only: the ingestor without an embedder leaves the vectors to the filler, as the server does.
        var store = SqliteStore.Of(_engine).Index;
        await new ContextCompiler.Engine.Ingest.CorpusIngestor(store, TempIndex.Assets.Tokenizer()).IngestAsync([_index.Sources], new());
        var snapshots = SqliteStore.Of(_engine).Snapshots;
        var before = snapshots.Current();
        Assert.Equal(0, before.VectorCount);

        await new ContextCompiler.Engine.Index.VectorIndexer(store, TempIndex.Assets.Embedder).FillAsync();
        var after = snapshots.Current();

        Assert.Equal(after.Keys.Length, after.VectorCount);
        Assert.Same(before.Lexical, after.Lexical);
        // A text write after that rebuilds the text index again.
        _engine.GetRequiredService<ICorpusStore>().Create("t", "mine");
        _engine.GetRequiredService<IDocumentStore>().Put("t", "mine", "c.md", "# C\n\nNew words.\n", "text/markdown");
        Assert.NotSame(after.Lexical, snapshots.Current().Lexical);
    }

    public void Dispose()
    {
        _engine.Dispose();
        _index.Dispose();
    }

    private string[] Search(string query) =>
        [.. SqliteStore.Of(_engine).Snapshots.Current().Lexical
            .Search(Bm25Index.QueryTerms(query), new RetrievalFilter(), 10, new LexicalWeights(1, 1, 1), new Bm25Parameters())
            .Select(r => r.Key.Path).Distinct()];
}
