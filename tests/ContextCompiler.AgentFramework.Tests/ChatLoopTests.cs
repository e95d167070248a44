using System.CommandLine;
using ContextCompiler.Cli.Chat;
using ContextCompiler.Cli.Commands;
using ContextCompiler.Client;
using ContextCompiler.Server.Tests;
using Microsoft.Extensions.AI;

namespace ContextCompiler.AgentFramework.Tests;

/// <summary><c>contextc chat</c>'s loop with a scripted model against the in-process server, and the command's checks of its settings.</summary>
public sealed class ChatLoopTests(SharedServer server) : IClassFixture<SharedServer>
{
    private readonly IContextCompilerClient _client = server.Client();

    private async Task<(string? SessionId, string Output, string Error)> Chat(string input, ScriptedChatClient model)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var loop = new ChatLoop(model, _client, new StringReader(input), output, error, new() { UserId = TestServices.NewUser() });
        string? id = await loop.RunAsync();
        return (id, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Two_questions_print_answers_citations_with_paths_and_a_warning_for_an_invented_marker_and_are_stored()
    {
        var model = new ScriptedChatClient("Run PRAGMA journal_mode=WAL [1]. It also needs shared memory [99].", "Yes, it persists [1].");

        var (id, output, error) = await Chat("How do I enable write-ahead logging?\nDoes that setting persist?\n/exit\nnever asked\n", model);

        Assert.Equal("", error);
        Assert.NotNull(id);
        var replay = await _client.ReplayAsync(id);
        Assert.Equal(2, replay.Turns.Count);
        Assert.Equal(["How do I enable write-ahead logging?", "Does that setting persist?"], replay.Turns.Select(t => t.UserMessage!.Content));
        Assert.Equal(["Run PRAGMA journal_mode=WAL [1]. It also needs shared memory [99].", "Yes, it persists [1]."],
            replay.Turns.Select(t => t.AssistantMessage!.Content));

        // Each answer is followed by its own turn's citations, its check, and a warning only when it invents a marker.
        int second = output.IndexOf("Yes, it persists [1].", StringComparison.Ordinal);
        Assert.True(second > 0, output);
        string first = output[..second];
        Assert.Contains("Run PRAGMA journal_mode=WAL [1]. It also needs shared memory [99].", first, StringComparison.Ordinal);
        foreach (var c in replay.Turns[0].WorkingSet!.Value.Citations)
        {
            Assert.Contains($"  [{c.N}] {c.Corpus}/{c.Path}:{c.StartLine}-{c.EndLine}\n", first, StringComparison.Ordinal);
        }

        Assert.Contains(replay.Turns[0].WorkingSet!.Value.Citations, c => c.Path.EndsWith("wal.md", StringComparison.Ordinal));
        Assert.True(first.Contains("  check: used [1], unknown [99], 2 of 2 sentences cite (100%)\n", StringComparison.Ordinal), first);
        Assert.Contains("  warning: the answer cites [99], which this turn's context does not have\n", first, StringComparison.Ordinal);
        string rest = output[second..];
        Assert.Contains("  check: used [1], unknown none, 1 of 1 sentences cite (100%)\n", rest, StringComparison.Ordinal);
        Assert.DoesNotContain("warning:", rest, StringComparison.Ordinal);
        Assert.Contains($"session {id} (contextc replay {id}", rest, StringComparison.Ordinal);
        // Lines after /exit are not read.
        Assert.Equal(2, model.Calls.Count);
    }

    [Fact]
    public async Task The_end_of_input_ends_the_chat_and_a_failed_model_call_is_reported_without_ending_it()
    {
        var model = new ScriptedChatClient(new HttpRequestException("The model is unavailable."), "WAL mode [1].");

        var (id, output, error) = await Chat("How do I enable write-ahead logging?\nHow do I enable WAL?", model);

        Assert.Equal("contextc: error: The model is unavailable.\n", error.ReplaceLineEndings("\n"));
        Assert.Contains("WAL mode [1].", output, StringComparison.Ordinal);
        var replay = await _client.ReplayAsync(id!);
        Assert.Null(replay.Turns[0].AssistantMessage);
        Assert.Equal("WAL mode [1].", replay.Turns[1].AssistantMessage!.Content);
    }

    [Fact]
    public async Task An_empty_input_takes_no_turn()
    {
        var model = new ScriptedChatClient();

        var (id, output, _) = await Chat("\n   \n/exit\n", model);

        Assert.Null(id);
        Assert.Empty(model.Calls);
        Assert.Contains("No turns were taken.", output, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Output, string Error)> Contextc(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exit = await ChatCommand.Create().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task A_missing_model_key_is_a_clear_error_and_exit_code_2()
    {
        // A variable no one sets, so the test does not depend on or change this machine's environment.
        string variable = "CONTEXTC_TEST_UNSET_" + Guid.NewGuid().ToString("N");

        var (exit, output, error) = await Contextc("--endpoint", "http://127.0.0.1:9/v1", "--model", "m", "--api-key-env", variable);

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Contains($"set the environment variable {variable}", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--model", "m")]
    [InlineData("--endpoint", "not a url", "--model", "m")]
    public async Task A_missing_or_invalid_endpoint_is_a_clear_error_and_exit_code_2(params string[] args)
    {
        var (exit, _, error) = await Contextc(args);

        Assert.Equal(2, exit);
        Assert.StartsWith("contextc: error: --endpoint ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_model_client_talks_to_the_given_endpoint_and_model_with_the_key_from_the_named_variable()
    {
        // A variable of this test's own, so that no other test or setting is affected.
        string variable = "CONTEXTC_TEST_KEY_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, "sk-test");
        try
        {
            using var model = ChatCommand.ModelClient("http://127.0.0.1:11434/v1", "llama3.2", variable);

            var metadata = model.GetService<ChatClientMetadata>();
            Assert.NotNull(metadata);
            Assert.Equal("llama3.2", metadata.DefaultModelId);
            Assert.Equal(new Uri("http://127.0.0.1:11434/v1"), metadata.ProviderUri);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }
}
