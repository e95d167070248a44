using ContextCompiler.Engine.Evaluate;

namespace ContextCompiler.Engine.Tests.Evaluate;

public sealed class SentenceLinesTests
{
    [Fact]
    public void Abstracts_and_paragraphs_are_split_into_one_sentence_per_line_so_spans_can_be_cut_at_sentence_ends()
    {
        var text = DatasetReader.SentenceLines("  Cells grew 2.5 fold. (Figure 1) shows it! Was p < 0.05? yes, e.g. in mice. End.  ");
        Assert.Equal(["Cells grew 2.5 fold.", "(Figure 1) shows it!", "Was p < 0.05? yes, e.g. in mice.", "End."], text.Split('\n'));
    }
}
