using System.Text.Json;
using ContextCompiler.Client;
using ContextCompiler.Server.Tests;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace ContextCompiler.SemanticKernel.Tests;

public sealed class PluginTests(SharedServer server) : IClassFixture<SharedServer>
{
    private const string Query = "How does the write-ahead log work with checkpoints?";

    private Kernel KernelWithPlugin(out IContextCompilerClient client)
    {
        client = server.Client();
        var kernel = Kernel.CreateBuilder().Build();
        kernel.ImportPluginFromObject(new ContextCompilerPlugin(client), "contextcompiler");
        return kernel;
    }

    [Fact]
    public async Task Compile_context_through_the_kernel_returns_the_cited_working_set_within_the_budget()
    {
        var kernel = KernelWithPlugin(out var client);

        var result = await kernel.InvokeAsync("contextcompiler", "compile_context", new KernelArguments { ["query"] = Query, ["budget"] = 300 });

        string text = result.GetValue<string>()!;
        Assert.StartsWith("[1] ", text);
        Assert.Contains("wal.md:L", text);
        var direct = await client.CompileAsync(new CompileRequest(Query, 300));
        Assert.Equal(direct.Text, text);
        Assert.InRange(ExactTokenCounter.For(direct.Manifest.Tokenizer).Count(text), 1, 300);
    }

    [Fact]
    public async Task Corpus_and_path_prefix_arguments_reach_the_service()
    {
        var kernel = KernelWithPlugin(out _);

        var result = await kernel.InvokeAsync("contextcompiler", "compile_context",
            new KernelArguments { ["query"] = Query, ["budget"] = 400, ["pathPrefix"] = "pragma", ["tokenizer"] = "cl100k_base" });

        string text = result.GetValue<string>()!;
        var headers = text.Split('\n').Where(line => line.StartsWith('[')).ToList();
        Assert.NotEmpty(headers);
        Assert.All(headers, h => Assert.Contains("/pragma.md:L", h));
        Assert.InRange(ExactTokenCounter.For("cl100k_base").Count(text), 1, 400);
    }

    [Fact]
    public void The_function_describes_itself_and_its_parameters_to_the_model()
    {
        var kernel = KernelWithPlugin(out _);

        var function = kernel.Plugins.GetFunction("contextcompiler", "compile_context");

        Assert.False(string.IsNullOrWhiteSpace(function.Description));
        var parameters = function.Metadata.Parameters.ToDictionary(p => p.Name);
        Assert.Equal(["query", "budget", "corpus", "pathPrefix", "tokenizer"], parameters.Keys);
        Assert.True(parameters["query"].IsRequired);
        Assert.True(parameters["budget"].IsRequired);
        Assert.False(parameters["corpus"].IsRequired);
        Assert.All(parameters.Values, p => Assert.False(string.IsNullOrWhiteSpace(p.Description), p.Name));
    }

    [Fact]
    public async Task A_budget_below_one_is_refused_before_calling_the_service()
    {
        var kernel = KernelWithPlugin(out _);

        var e = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            kernel.InvokeAsync("contextcompiler", "compile_context", new KernelArguments { ["query"] = Query, ["budget"] = 0 }));

        Assert.Contains("at least 1 token", e.Message);
    }

    [Fact]
    public async Task An_unknown_tokenizer_surfaces_as_the_service_s_invalid_request()
    {
        var kernel = KernelWithPlugin(out _);

        var e = await Assert.ThrowsAsync<InvalidRequestException>(() => kernel.InvokeAsync("contextcompiler", "compile_context",
            new KernelArguments { ["query"] = Query, ["budget"] = 300, ["tokenizer"] = "no-such-model" }));

        Assert.Contains("no-such-model", e.Message);
    }

    [Fact]
    public async Task A_model_that_calls_compile_context_gets_the_working_set_in_its_second_request()
    {
        var kernel = KernelWithPlugin(out var client);
        var model = new ScriptedChatClient(
            (_, options) =>
            {
                // The model can only call what it was offered, so the tool's name comes from the request.
                var tool = options?.Tools?.OfType<AIFunction>().SingleOrDefault(t => t.Name.EndsWith("compile_context", StringComparison.Ordinal))
                    ?? throw new InvalidOperationException("compile_context was not offered to the model.");
                return new ChatResponse(new ChatMessage(ChatRole.Assistant,
                    [new Microsoft.Extensions.AI.FunctionCallContent("call-1", tool.Name, new Dictionary<string, object?> { ["query"] = Query, ["budget"] = 350 })]));
            },
            (_, _) => new ChatResponse(new ChatMessage(ChatRole.Assistant, "Checkpoints move WAL content into the database [1].")));
        using var chat = new ChatClientBuilder(model).UseKernelFunctionInvocation().Build();
        var history = new ChatHistory();
        history.AddUserMessage(Query);

        var reply = await chat.AsChatCompletionService().GetChatMessageContentAsync(
            history, new PromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() }, kernel);

        Assert.Equal("Checkpoints move WAL content into the database [1].", reply.Content);
        Assert.Equal(2, model.Requests.Count);
        var result = Assert.Single(model.Requests[1].Messages.SelectMany(m => m.Contents).OfType<Microsoft.Extensions.AI.FunctionResultContent>());
        Assert.Equal("call-1", result.CallId);
        var expected = await client.CompileAsync(new CompileRequest(Query, 350));
        Assert.StartsWith("[1] ", expected.Text);
        Assert.Equal(expected.Text, AsText(result.Result));
    }

    private static string? AsText(object? result) => result switch
    {
        JsonElement { ValueKind: JsonValueKind.String } element => element.GetString(),
        _ => result?.ToString(),
    };
}
