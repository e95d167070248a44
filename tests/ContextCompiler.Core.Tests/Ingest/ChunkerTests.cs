using ContextCompiler.Core.Ingest;
using FsCheck;
using FsCheck.Fluent;

namespace ContextCompiler.Core.Tests.Ingest;

public sealed class ChunkerTests
{
    private static Chunker Chunker(int max = 64, int overlap = 0) =>
        new(TestAssets.Tokenizer(), new ChunkingOptions { MaxTokens = max, OverlapTokens = overlap });

    private static string LinesOf(string content, Chunk chunk) =>
        string.Join("\n", content.Split('\n')[(chunk.StartLine - 1)..chunk.EndLine]);

    [Fact]
    public void Each_markdown_heading_starts_a_span_and_carries_its_trail()
    {
        const string doc = "# Title\n\nIntro paragraph.\n\n## Part A\n\nText of A.\n\n## Part B\n\nText of B.\n";
        var chunks = Chunker(max: 256).Split(doc, SourceKind.Markdown);

        Assert.Equal(["# Title", "## Part A", "## Part B"], chunks.Select(c => c.Text.Split('\n')[0]));
        Assert.Equal(["Title", "Title > Part A", "Title > Part B"], chunks.Select(c => c.Heading));
        Assert.Equal((5, 7), (chunks[1].StartLine, chunks[1].EndLine));
    }

    [Fact]
    public void A_title_directly_above_a_section_heading_stays_with_that_section()
    {
        var chunks = Chunker(max: 256).Split("# Title\n\n## 1. Overview\n\nBody text.\n", SourceKind.Markdown);
        var chunk = Assert.Single(chunks);
        Assert.Equal((1, 5), (chunk.StartLine, chunk.EndLine));
    }

    [Fact]
    public void A_heading_inside_a_code_fence_is_not_a_heading()
    {
        const string doc = "# Shell\n\n```sh\n# not a heading\necho hi\n```\n";
        var chunk = Assert.Single(Chunker(max: 256).Split(doc, SourceKind.Markdown));
        Assert.Equal((1, 6), (chunk.StartLine, chunk.EndLine));
        Assert.Equal("Shell", chunk.Heading);
    }

    [Fact]
    public void Spans_never_exceed_the_maximum_unless_a_single_line_does()
    {
        var doc = string.Join("\n\n", Enumerable.Range(0, 40).Select(i => $"Paragraph {i} talks about write-ahead logging, checkpoints and readers number {i}."));
        doc += "\n\n" + string.Concat(Enumerable.Repeat("longline ", 200)) + "\n";
        var chunks = Chunker(max: 48).Split(doc, SourceKind.Text);
        var tokenizer = TestAssets.Tokenizer();
        foreach (var chunk in chunks)
        {
            Assert.Equal(tokenizer.CountTokens(chunk.Text), chunk.Tokens);
            Assert.True(chunk.Tokens <= 48 || chunk.StartLine == chunk.EndLine, $"span {chunk.StartLine}-{chunk.EndLine} has {chunk.Tokens} tokens");
        }

        Assert.Contains(chunks, c => c.Tokens > 48 && c.StartLine == c.EndLine);
    }

    [Fact]
    public void Code_is_cut_at_blank_lines_and_top_level_declarations()
    {
        // Each function fits in 16 tokens on its own, two together do not: the cut must fall between them.
        const string code = "def first():\n    return compute(alpha, beta)\ndef second():\n    return compute(gamma, delta)\n\n# helper\ndef third():\n    return 3\n";
        var chunks = new Chunker(TestAssets.Tokenizer(), new ChunkingOptions { MaxTokens = 16 }).Split(code, SourceKind.Code);
        Assert.Equal([(1, 2), (3, 4), (6, 8)], chunks.Select(c => (c.StartLine, c.EndLine)));
    }

    [Fact]
    public void Overlap_repeats_trailing_lines_after_a_size_cut()
    {
        var lines = Enumerable.Range(1, 30).Select(i => $"line number {i} of a long block");
        var doc = string.Join("\n", lines);
        var chunks = Chunker(max: 40, overlap: 10).Split(doc, SourceKind.Text);
        Assert.True(chunks.Count > 2);
        for (int i = 1; i < chunks.Count; i++)
        {
            Assert.True(chunks[i].StartLine <= chunks[i - 1].EndLine, "consecutive spans share a line");
            Assert.True(chunks[i].StartLine > chunks[i - 1].StartLine, "spans advance");
        }
    }

    [Fact]
    public void Blank_lines_do_not_begin_or_end_a_span()
    {
        var chunks = Chunker().Split("\n\n\nfirst\n\n\nsecond\n\n", SourceKind.Text);
        Assert.All(chunks, c => Assert.False(string.IsNullOrWhiteSpace(c.Text.Split('\n')[0]) || string.IsNullOrWhiteSpace(c.Text.Split('\n')[^1])));
        Assert.Equal((4, 7), (chunks[0].StartLine, chunks[^1].EndLine));
    }

    [Fact]
    public void Invalid_options_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Chunker(max: 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => Chunker(max: 64, overlap: 64));
    }

    [Fact]
    public void Property_spans_are_exact_line_ranges_in_order_within_the_budget()
    {
        var words = new[] { "alpha", "beta", "# Heading", "## Sub", "```", "", "", "  indented", "x = 1", "日本語", "emoji 😀", "long " + new string('y', 30) };
        var gen = from n in Gen.Choose(0, 60)
                  from picks in Gen.ArrayOf(Gen.Elements(words), n)
                  from max in Gen.Choose(16, 80)
                  from kind in Gen.Elements(SourceKind.Markdown, SourceKind.Text, SourceKind.Code)
                  select (string.Join("\n", picks), max, kind);

        Prop.ForAll(gen.ToArbitrary(), input =>
        {
            var (doc, max, kind) = input;
            var chunks = Chunker(max).Split(doc, kind);
            int previousStart = 0;
            foreach (var chunk in chunks)
            {
                if (LinesOf(doc, chunk) != chunk.Text || chunk.StartLine <= previousStart)
                {
                    return false;
                }

                if (chunk.Tokens > max && chunk.StartLine != chunk.EndLine)
                {
                    return false;
                }

                previousStart = chunk.StartLine;
            }

            return true;
        }).QuickCheckThrowOnFailure();
    }
}
