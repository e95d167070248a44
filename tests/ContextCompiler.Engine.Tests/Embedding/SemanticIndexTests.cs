using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Embedding;
using ContextCompiler.Embeddings;
using ContextCompiler.Engine.Embedding;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Ingest;
using Microsoft.Extensions.AI;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Engine.Tests.Embedding;

/// <summary>
/// A neural index end to end, on five pages of the default corpus and the real packaged model (all-MiniLM-L6-v2):
/// text first, vectors after, vector coverage in manifests, the persistent embedding cache, and moving to another model.
/// </summary>
public sealed class SemanticIndexTests : IDisposable
{
    private static readonly string[] Pages = ["wal.md", "pragma.md", "lang_savepoint.md", "lockingv3.md", "undoredo.md"];
    private readonly TempIndex _glove = new();
    private readonly string _root = Directory.CreateTempSubdirectory("contextc-semantic-").FullName;

    public SemanticIndexTests()
    {
        var corpus = Path.Combine(Compile.SqliteDocsIndex.RepositoryRoot(), "corpora", "sqlite-docs");
        foreach (var page in Pages)
        {
            _glove.Write(page, File.ReadAllText(Path.Combine(corpus, page)));
        }
    }

    private string Sources => _glove.Sources;

    public void Dispose()
    {
        _glove.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
    }

    private (IndexStore Store, EmbedderCatalog Catalog) NewIndex(string name, string cache, string model = "all-MiniLM-L6-v2")
    {
        var catalog = new EmbedderCatalog(TempIndex.Assets, Path.Combine(_root, cache));
        return (catalog.Open(Path.Combine(_root, name), model), catalog);
    }

    [Fact]
    public async Task Text_is_searchable_before_its_vectors_and_manifests_record_how_many_there_were()
    {
        var (store, catalog) = NewIndex("text-first.db", "cache-a.db");
        using var _ = catalog;
        using var __ = store;
        await new CorpusIngestor(store, TempIndex.Assets.Tokenizer()).IngestAsync([Sources], new IngestOptions { Corpus = "sqlite-docs" });
        var embedder = catalog.For(store.Model.Id);
        var compiler = CompilerFactory.Create(store, embedder.Queries, TempIndex.Assets);

        var before = await compiler.CompileAsync(new CompileRequest("How do I make the journal write-ahead?", 600));
        Assert.NotEmpty(before.Citations);
        Assert.Equal(0, before.Manifest.VectorCoverage!.WithVectors);
        Assert.False(before.Manifest.VectorCoverage.Complete);

        var filled = await new VectorIndexer(store, embedder.Passages).FillAsync();
        Assert.Equal(filled.Total, filled.Embedded);
        var after = await compiler.CompileAsync(new CompileRequest("How do I make the journal write-ahead?", 600));
        Assert.True(after.Manifest.VectorCoverage!.Complete);
        Assert.Equal("all-MiniLM-L6-v2", after.Manifest.EmbeddingModel);
        Assert.Contains(after.Citations, c => c.Path == "wal.md");
    }

    [Fact]
    public async Task Vectors_alone_find_a_paraphrased_question()
    {
        var (store, catalog) = NewIndex("paraphrase.db", "cache-b.db");
        using var _ = catalog;
        using var __ = store;
        var embedder = catalog.For(store.Model.Id);
        await new CorpusIngestor(store, TempIndex.Assets.Tokenizer(), embedder.Passages).IngestAsync([Sources], new IngestOptions { Corpus = "sqlite-docs" });
        var compiler = CompilerFactory.Create(store, embedder.Queries, TempIndex.Assets);
        var set = await compiler.CompileAsync(new CompileRequest(
            "Can I go back to an earlier point inside a transaction without throwing the whole thing away?", 400,
            Options: new CompilerOptions { VectorWeight = 1 }));
        Assert.Equal("lang_savepoint.md", set.Citations[0].Path);
    }

    [Fact]
    public async Task A_second_index_of_the_same_text_takes_every_vector_from_the_cache()
    {
        var counting = new CountingEmbedder(new OnnxSentenceEmbedder(SentenceModel.MiniLm));
        string cachePath = Path.Combine(_root, "shared-cache.db");
        for (int run = 0; run < 2; run++)
        {
            using var cache = new PersistentEmbeddingCache(counting, SentenceModel.MiniLm.Id, cachePath);
            using var store = IndexStore.Open(Path.Combine(_root, $"run{run}.db"), TempIndex.Assets.Vec0Path, new EmbeddingModel(SentenceModel.MiniLm.Id, 384));
            await new CorpusIngestor(store, TempIndex.Assets.Tokenizer(), cache).IngestAsync([Sources], new IngestOptions());
            Assert.True(new VectorIndexer(store, cache).Status().Complete);
            if (run == 0)
            {
                Assert.True(counting.Texts > 0);
                Assert.Equal(0, cache.Hits);
            }
            else
            {
                Assert.Equal(0, cache.Misses);
                Assert.True(cache.Hits > 0);
            }
        }

    }

    [Fact]
    public async Task An_index_moves_to_another_model_and_says_which_model_it_holds()
    {
        var glove = TempIndex.Embedders.For(GloveSifEmbedder.ModelId);
        await new CorpusIngestor(_glove.Store, TempIndex.Assets.Tokenizer(), glove.Passages).IngestAsync([Sources], new IngestOptions());

        var mismatch = Assert.Throws<EmbeddingModelMismatchException>(() => TempIndex.Embedders.Open(_glove.DatabasePath, SentenceModel.MiniLm.Id));
        Assert.Contains("reembed", mismatch.Message);

        using var moved = IndexStore.SwitchModel(_glove.DatabasePath, TempIndex.Assets.Vec0Path, new EmbeddingModel(SentenceModel.MiniLm.Id, 384));
        Assert.Equal(0, new VectorIndexer(moved, TempIndex.Embedders.For(SentenceModel.MiniLm.Id).Passages).Status().Done);
        await new VectorIndexer(moved, TempIndex.Embedders.For(SentenceModel.MiniLm.Id).Passages).FillAsync();
        Assert.Equal(SentenceModel.MiniLm.Id, IndexStore.StoredModel(_glove.DatabasePath)!.Id);
        Assert.True(new VectorIndexer(moved, TempIndex.Embedders.For(SentenceModel.MiniLm.Id).Passages).Status().Complete);
        using var reopened = TempIndex.Embedders.Open(_glove.DatabasePath);
        Assert.Equal(SentenceModel.MiniLm.Id, reopened.Model.Id);
    }

    [Fact]
    public async Task A_repeated_query_is_embedded_once()
    {
        var counting = new CountingEmbedder(new OnnxSentenceEmbedder(SentenceModel.MiniLm));
        using var cache = new MemoryEmbeddingCache(counting, capacity: 2);
        await cache.GenerateVectorAsync("what is a savepoint?");
        await cache.GenerateVectorAsync("what is a savepoint?");
        Assert.Equal(1, counting.Texts);
        Assert.Equal((1, 1), (cache.Hits, cache.Misses));
        await cache.GenerateVectorAsync("two");
        await cache.GenerateVectorAsync("three");
        await cache.GenerateVectorAsync("what is a savepoint?");
        Assert.Equal(4, counting.Texts); // evicted beyond its capacity of 2
    }

    /// <summary>Counts the texts that reach the real model.</summary>
    private sealed class CountingEmbedder(IEmbeddingGenerator<string, Embedding<float>> inner) : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner)
    {
        private int _texts;

        public int Texts => _texts;

        public override Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
            IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            var list = values.ToList();
            Interlocked.Add(ref _texts, list.Count);
            return base.GenerateAsync(list, options, cancellationToken);
        }
    }
}
