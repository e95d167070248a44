using ContextCompiler.Core.Tokenization;
using ContextCompiler.Engine.Sessions;
using ContextCompiler.Engine.Sessions.Compacting;

namespace ContextCompiler.Engine.Tests.Sessions;

/// <summary>The deterministic summary, with the service's real tokenizer.</summary>
public sealed class ExtractiveSummarizerTests
{
    private static readonly ITokenizer Tokenizer = TempIndex.Assets.Tokenizer();

    [Fact]
    public void Each_question_is_kept_and_each_reply_by_its_first_sentence_with_the_documents_it_cited()
    {
        var messages = new[]
        {
            Message(1, MessageRoles.User, "How do I switch to write-ahead logging?"),
            Message(2, MessageRoles.Assistant, "Run `PRAGMA journal_mode=WAL;` on an open connection [1][2]. It returns the new mode, e.g. wal."),
            Message(3, MessageRoles.Tool, "{\"rows\": 3}"),
            Message(4, MessageRoles.User, "Is it   remembered?\nAcross connections?"),
        };
        var cited = new Dictionary<string, IReadOnlyList<CitedSource>>
        {
            ["m2"] = [new(1, "docs", "wal.md", 10, 20), new(2, "docs", "wal.md", 40, 44), new(3, "docs", "pragma.md", 5, 9)],
        };

        string summary = ExtractiveSummarizer.Summarize(new SummaryRequest(null, messages, cited, 500, Tokenizer));

        Assert.Equal(
            "- User asked: How do I switch to write-ahead logging?\n" +
            "- Assistant: Run `PRAGMA journal_mode=WAL;` on an open connection [1][2]. (docs/wal.md:10-20; docs/pragma.md:5-9)\n" +
            "- User asked: Is it remembered? Across connections?",
            summary);
    }

    [Fact]
    public void A_new_summary_extends_the_previous_one_and_packs_by_dropping_the_oldest_lines_after_the_opening_exchange()
    {
        const string previous = "- User asked: Which journal mode should I use?\n- Assistant: WAL.\n- User asked: old detail one\n- Assistant: old answer one.";
        var messages = new[] { Message(9, MessageRoles.User, "newest question"), Message(10, MessageRoles.Assistant, "Newest answer. More.") };
        string all = ExtractiveSummarizer.Summarize(new SummaryRequest(previous, messages, new Dictionary<string, IReadOnlyList<CitedSource>>(), 1000, Tokenizer));
        Assert.Equal(previous + "\n- User asked: newest question\n- Assistant: Newest answer.", all);

        // Room for all but one line: the oldest line after the opening exchange goes first.
        int budget = Tokenizer.CountTokens(all) - 1;
        string packed = ExtractiveSummarizer.Summarize(new SummaryRequest(previous, messages, new Dictionary<string, IReadOnlyList<CitedSource>>(), budget, Tokenizer));
        Assert.Equal("- User asked: Which journal mode should I use?\n- Assistant: WAL.\n- Assistant: old answer one.\n- User asked: newest question\n- Assistant: Newest answer.", packed);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(12)]
    [InlineData(40)]
    [InlineData(90)]
    public void The_summary_never_exceeds_its_budget(int budget)
    {
        var messages = Enumerable.Range(1, 12)
            .Select(i => Message(i, i % 2 == 1 ? MessageRoles.User : MessageRoles.Assistant, $"Message {i} talks about checkpoint {i} of the write-ahead log in some detail. Then more."))
            .ToList();

        string summary = ExtractiveSummarizer.Summarize(new SummaryRequest("- earlier line", messages, new Dictionary<string, IReadOnlyList<CitedSource>>(), budget, Tokenizer));

        Assert.InRange(Tokenizer.CountTokens(summary), 0, budget);
        // The newest reply stays while there is room beside the opening; the opening (here the earlier summary's line) stays longest.
        Assert.Equal(budget >= 90, summary.Contains("Message 12", StringComparison.Ordinal));
        Assert.Equal(budget > 0, summary.StartsWith("- earlier line", StringComparison.Ordinal));
    }

    [Fact]
    public void A_long_question_is_cut_at_a_word_and_marked()
    {
        string question = string.Join(' ', Enumerable.Repeat("lengthy", 200));
        string summary = ExtractiveSummarizer.Summarize(new SummaryRequest(null, [Message(1, MessageRoles.User, question)], new Dictionary<string, IReadOnlyList<CitedSource>>(), 500, Tokenizer));

        Assert.EndsWith("lengthy …", summary, StringComparison.Ordinal);
        Assert.InRange(Tokenizer.CountTokens(summary), 50, 70);
    }

    [Fact]
    public void A_budget_smaller_than_the_opening_line_keeps_its_start()
    {
        var messages = new[]
        {
            Message(1, MessageRoles.User, "How do I switch my database over to write-ahead logging instead of the rollback journal?"),
            Message(2, MessageRoles.Assistant, "Run PRAGMA journal_mode=WAL on an open connection."),
        };

        string summary = ExtractiveSummarizer.Summarize(new SummaryRequest(null, messages, new Dictionary<string, IReadOnlyList<CitedSource>>(), 12, Tokenizer));

        Assert.StartsWith("- User asked: How do I switch", summary, StringComparison.Ordinal);
        Assert.EndsWith(" …", summary, StringComparison.Ordinal);
        Assert.InRange(Tokenizer.CountTokens(summary), 8, 12);
    }

    private static Message Message(long sequence, string role, string content) => new($"m{sequence}", role, content, sequence, DateTimeOffset.UnixEpoch, null);
}
