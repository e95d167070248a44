using System.Diagnostics;
using ContextCompiler.Engine.Assets;
using Xunit.Abstractions;
using MlTiktoken = Microsoft.ML.Tokenizers.TiktokenTokenizer;

namespace ContextCompiler.Engine.Tests.Assets;

/// <summary>Model names resolve to encodings through Microsoft.ML.Tokenizers, whose counts equal ours on the whole default corpus.</summary>
public sealed class TokenizerModelsTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("gpt-4o", "o200k_base")]
    [InlineData("gpt-4.1", "o200k_base")]
    [InlineData("gpt-4", "cl100k_base")]
    [InlineData("gpt-3.5-turbo", "cl100k_base")]
    [InlineData("text-embedding-3-small", "cl100k_base")]
    [InlineData("cl100k_base", "cl100k_base")]
    public void A_model_name_resolves_to_its_encoding(string model, string encoding)
    {
        Assert.Equal(encoding, TokenizerModels.EncodingOf(model, TempIndex.Assets));
        Assert.Equal(encoding, TempIndex.Assets.Tokenizer(model).Name);
    }

    [Fact]
    public void An_unknown_model_is_a_clear_error()
    {
        var error = Assert.Throws<ArgumentException>(() => TempIndex.Assets.Tokenizer("no-such-model-7"));
        Assert.Contains("no-such-model-7", error.Message);
        Assert.Contains("o200k_base", error.Message);
    }

    [Theory]
    [InlineData("o200k_base")]
    [InlineData("cl100k_base")]
    public void Special_token_strings_in_user_text_count_as_plain_text(string encoding)
    {
        var ours = TempIndex.Assets.Tokenizer(encoding);
        Assert.True(ours.CountTokens("<|endoftext|>") > 1);
        Assert.Equal(ours.CountTokens("a <|endoftext|> b"), ours.Encode("a <|endoftext|> b").Count);
    }

    [Theory]
    [InlineData("gpt-4o", "o200k_base")]
    [InlineData("gpt-4", "cl100k_base")]
    public void Both_tokenizers_count_the_whole_default_corpus_alike(string model, string encoding)
    {
        var corpus = Path.Combine(Compile.SqliteDocsIndex.RepositoryRoot(), "corpora", "sqlite-docs");
        Assert.True(Directory.Exists(corpus), $"The default corpus is needed but {corpus} does not exist.");
        var ours = TempIndex.Assets.Tokenizer(encoding);
        var reference = MlTiktoken.CreateForModel(model);
        var files = Directory.EnumerateFiles(corpus, "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var differing = new List<string>();
        long total = 0;
        var oursTime = new Stopwatch();
        var theirsTime = new Stopwatch();
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            oursTime.Start();
            int a = ours.CountTokens(text);
            oursTime.Stop();
            theirsTime.Start();
            int b = reference.CountTokens(text);
            theirsTime.Stop();
            total += a;
            if (a != b)
            {
                differing.Add($"{Path.GetRelativePath(corpus, file)}: ours {a}, Microsoft.ML.Tokenizers {b}");
            }
        }

        output.WriteLine($"{encoding}: {files.Count} files, {total} tokens; ours {oursTime.ElapsedMilliseconds} ms, Microsoft.ML.Tokenizers {theirsTime.ElapsedMilliseconds} ms (one pass, not a benchmark)");
        Assert.True(differing.Count == 0, $"{differing.Count} of {files.Count} files count differently:\n{string.Join('\n', differing.Take(50))}");
    }
}
