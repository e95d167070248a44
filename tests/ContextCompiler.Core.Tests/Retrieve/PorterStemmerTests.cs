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
}
