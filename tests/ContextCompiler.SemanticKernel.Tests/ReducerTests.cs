using ContextCompiler.Server.Tests;
using ContextCompiler.Engine.Assets;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using MlTiktoken = Microsoft.ML.Tokenizers.TiktokenTokenizer;

namespace ContextCompiler.SemanticKernel.Tests;

public sealed class ReducerTests
{
    private static readonly MlTiktoken O200k = MlTiktoken.CreateForEncoding("o200k_base");

    [Theory]
    [InlineData("o200k_base")]
    [InlineData("cl100k_base")]
    public void The_counter_equals_ML_Tokenizers_and_the_service_s_tokenizer_on_the_corpus(string encoding)
    {
        var counter = ExactTokenCounter.For(encoding);
        var ml = MlTiktoken.CreateForEncoding(encoding);
        var service = OfflineAssets.Default.Tokenizer(encoding);
        var files = Directory.GetFiles(Path.Combine(ServerFactory.RepositoryRoot(), "corpora", "sqlite-docs"), "*.md").Order().Take(20).ToList();
        Assert.NotEmpty(files);

        foreach (var file in files)
        {
            string text = File.ReadAllText(file);
            Assert.Equal(ml.CountTokens(text), counter.Count(text));
            Assert.Equal(service.CountTokens(text), counter.Count(text));
        }
    }

    [Fact]
    public void Model_names_resolve_to_their_encoding_and_an_unknown_name_is_refused()
    {
        Assert.Equal("o200k_base", ExactTokenCounter.For("gpt-4o").Encoding);
        Assert.Equal("cl100k_base", ExactTokenCounter.For("gpt-4").Encoding);
        var e = Assert.Throws<ArgumentException>(() => ExactTokenCounter.For("no-such-model"));
        Assert.Contains("no-such-model", e.Message);
    }

    [Fact]
    public void A_special_token_string_in_user_text_counts_as_plain_text()
    {
        const string text = "Ignore this: <|endoftext|> and <|im_start|>system";
        var counter = ExactTokenCounter.For("gpt-4o");

        int count = counter.Count(text);

        // ML.Tokenizers' own tokenizer for gpt-4o maps <|endoftext|> to one special id; an API counts it as text.
        Assert.Contains(199999, MlTiktoken.CreateForModel("gpt-4o").EncodeToIds(text));
        Assert.Equal(OfflineAssets.Default.Tokenizer("o200k_base").CountTokens(text), count);
        // The pieces o200k_base's split pattern makes of the text, each counted on its own: no special token among them.
        string[] pieces = ["Ignore", " this", ":", " <|", "endoftext", "|>", " and", " <|", "im", "_start", "|>", "system"];
        Assert.Equal(text, string.Concat(pieces));
        Assert.Equal(pieces.Sum(p => O200k.CountTokens(p)), count);
    }

    [Fact]
    public void A_message_counts_its_framing_role_name_and_text_exactly()
    {
        var reducer = new TokenBudgetChatHistoryReducer(1000);
        var message = new ChatMessageContent(AuthorRole.User, "How do checkpoints move pages from the WAL?") { AuthorName = "ada" };

        Assert.Equal(3 + O200k.CountTokens("user") + O200k.CountTokens("ada") + 1 + O200k.CountTokens(message.Content!), reducer.CountTokens(message));
        Assert.Equal(3 + reducer.CountTokens(message), reducer.CountTokens([message]));
    }

    [Fact]
    public async Task A_history_within_the_budget_is_not_reduced()
    {
        var history = Conversation();
        var reducer = new TokenBudgetChatHistoryReducer(new TokenBudgetChatHistoryReducer(1).CountTokens(history));

        Assert.Null(await reducer.ReduceAsync(history));
    }

    [Fact]
    public async Task The_system_message_and_the_newest_messages_that_fit_are_kept()
    {
        var history = Conversation();
        var count = new TokenBudgetChatHistoryReducer(1);
        // Room for the system message and the last three messages, one token short of the fourth-newest.
        int budget = count.CountTokens([history[0], history[^3], history[^2], history[^1]]) + count.CountTokens(history[^4]) - 1;
        var reducer = new TokenBudgetChatHistoryReducer(budget);

        var reduced = (await reducer.ReduceAsync(history))!.ToList();

        Assert.Equal([history[0], history[^3], history[^2], history[^1]], reduced);
        Assert.InRange(reducer.CountTokens(reduced), 1, budget);
    }

    [Fact]
    public async Task A_function_call_and_its_results_are_kept_or_dropped_together()
    {
        var call = new FunctionCallContent("compile_context", "contextcompiler", "call-1", new KernelArguments { ["query"] = "WAL", ["budget"] = 500 });
        var history = new ChatHistory("You answer from the cited context.");
        history.AddUserMessage("What is the WAL?");
        history.Add(new ChatMessageContent(AuthorRole.Assistant, [call]));
        history.Add(new FunctionResultContent(call, "[1] sqlite-docs/wal.md:L1-L9\nThe write-ahead log appends changes to a separate file ...").ToChatMessage());
        history.AddAssistantMessage("It appends changes to a separate file [1].");
        history.AddUserMessage("And checkpoints?");
        var count = new TokenBudgetChatHistoryReducer(1);
        // Room for the result message but not for its call as well.
        int budget = count.CountTokens([history[0], history[3], history[4], history[5]]);
        var reducer = new TokenBudgetChatHistoryReducer(budget);

        var reduced = (await reducer.ReduceAsync(history))!.ToList();

        Assert.Equal([history[0], history[4], history[5]], reduced);
        var roomy = new TokenBudgetChatHistoryReducer(count.CountTokens([history[0], history[2], history[3], history[4], history[5]]));
        Assert.Equal([history[0], history[2], history[3], history[4], history[5]], (await roomy.ReduceAsync(history))!);
    }

    [Fact]
    public async Task SK_s_chat_history_extensions_reduce_through_the_reducer()
    {
        var history = Conversation();
        var count = new TokenBudgetChatHistoryReducer(1);
        var reducer = new TokenBudgetChatHistoryReducer(count.CountTokens([history[0], history[^1]]));
        var original = history.ToList();

        var copy = await history.ReduceAsync(reducer, CancellationToken.None);
        Assert.Equal(original, history);
        Assert.Equal([original[0], original[^1]], copy);

        bool changed = await history.ReduceInPlaceAsync(reducer, CancellationToken.None);
        Assert.True(changed);
        Assert.Equal([original[0], original[^1]], history);
        Assert.False(await history.ReduceInPlaceAsync(reducer, CancellationToken.None));
    }

    [Fact]
    public async Task A_newest_message_over_the_budget_is_an_error_not_an_empty_conversation()
    {
        var history = Conversation();
        var count = new TokenBudgetChatHistoryReducer(1);
        var reducer = new TokenBudgetChatHistoryReducer(count.CountTokens([history[0], history[^1]]) - 1);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => reducer.ReduceAsync(history));
        Assert.Contains("newest message", e.Message);
        var tooSmall = new TokenBudgetChatHistoryReducer(count.CountTokens([history[0]]) - 1);
        await Assert.ThrowsAsync<InvalidOperationException>(() => tooSmall.ReduceAsync(history));
    }

    private static ChatHistory Conversation()
    {
        var history = new ChatHistory("You answer questions about SQLite from the cited context.");
        history.AddUserMessage("What does PRAGMA journal_mode=WAL change?");
        history.AddAssistantMessage("It makes SQLite append changes to a write-ahead log instead of rewriting pages in place.");
        history.AddUserMessage("Can readers and a writer run at the same time then?");
        history.AddAssistantMessage("Yes: readers see the last committed snapshot while one writer appends to the log.");
        history.AddUserMessage("When is the log copied back into the database file?");
        return history;
    }
}
