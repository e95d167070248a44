using ContextCompiler.Core.Retrieve;

namespace ContextCompiler.Core.Tests.Retrieve;

// Expected stems are the ones SQLite's FTS5 porter tokenizer gives; the Storage tests check the corpus against it live.
public sealed class PorterStemmerTests
{
    [Theory]
    [InlineData("technology", "technolog")]
    [InlineData("technologies", "technolog")]
    [InlineData("methodology", "methodolog")]
    public void Logi_becomes_log(string word, string stem) =>
        Assert.Equal(stem, PorterStemmer.Stem(word));

    [Fact]
    public void Possibly_shares_its_stem_with_possible()
    {
        Assert.Equal("possibl", PorterStemmer.Stem("possible"));
        Assert.Equal("possibl", PorterStemmer.Stem("possibly"));
    }

    [Theory]
    [InlineData("assembly", "assembl")]
    [InlineData("flexibly", "flexibl")]
    [InlineData("irreversibly", "irrevers")]
    public void Bli_becomes_ble(string word, string stem) =>
        Assert.Equal(stem, PorterStemmer.Stem(word));

    [Theory]
    [InlineData("ies", "ie")]
    [InlineData("sses", "sse")]
    [InlineData("eed", "e")]
    public void A_suffix_matches_only_after_at_least_one_letter(string word, string stem) =>
        Assert.Equal(stem, PorterStemmer.Stem(word));

    [Fact]
    public void A_doubled_y_is_undoubled_like_a_consonant() =>
        Assert.Equal("ai", PorterStemmer.Stem("ayying"));

    [Fact]
    public void Words_longer_than_64_letters_are_not_stemmed()
    {
        Assert.Equal(new string('x', 63), PorterStemmer.Stem(new string('x', 63) + "s"));
        Assert.Equal(new string('x', 64) + "s", PorterStemmer.Stem(new string('x', 64) + "s"));
    }
}
