using ContextCompiler.Core.Embedding;

namespace ContextCompiler.Core.Tests.Embedding;

public sealed class GloveSifEmbedderTests
{
    private static GloveSifEmbedder Embedder => TestAssets.Glove;

    private static float Cosine(string a, string b) => VectorMath.Dot(Embedder.Embed(a), Embedder.Embed(b));

    [Fact]
    public void Embeddings_are_unit_length_and_deterministic()
    {
        var first = Embedder.Embed("The database uses a write-ahead log.");
        var second = Embedder.Embed("The database uses a write-ahead log.");
        Assert.Equal(100, first.Length);
        Assert.Equal(first, second);
        Assert.Equal(1.0, Math.Sqrt(VectorMath.Dot(first, first)), precision: 5);
    }

    [Fact]
    public void Related_sentences_are_closer_than_unrelated_ones()
    {
        float related = Cosine("How do I lock the database file while writing?", "Writers take an exclusive lock on the database.");
        float unrelated = Cosine("How do I lock the database file while writing?", "The football team won the championship game.");
        Assert.True(related > unrelated + 0.1f, $"related {related}, unrelated {unrelated}");
    }

    [Fact]
    public void Text_without_known_words_embeds_to_zero()
    {
        Assert.All(Embedder.Embed("qzxqzx §§§ ___"), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Frequent_words_weigh_less_than_rare_ones()
    {
        // "the" alone is nearly all common component; a content word dominates a sentence it appears in.
        float withContent = Cosine("the the the the checkpoint", "checkpoint");
        Assert.True(withContent > 0.9f, $"cosine {withContent}");
    }

    [Fact]
    public async Task The_generator_interface_returns_one_embedding_per_input_with_the_model_id()
    {
        var result = await Embedder.GenerateAsync(["vacuum", "index"]);
        Assert.Equal(2, result.Count);
        Assert.All(result, e => Assert.Equal(GloveSifEmbedder.ModelId, e.ModelId));
        Assert.Equal(Embedder.Embed("vacuum"), result[0].Vector.ToArray());
    }

    [Fact]
    public void Identifiers_are_split_into_words()
    {
        var words = new List<string>();
        foreach (var word in WordSplitter.Split("sqlite3_busy_timeout busyTimeout"))
        {
            words.Add(word.ToString());
        }

        Assert.Equal(["sqlite3", "busy", "timeout", "busy", "Timeout"], words);
    }
}
