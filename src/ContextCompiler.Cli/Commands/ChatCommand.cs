using System.CommandLine;
using ContextCompiler.AgentFramework;
using ContextCompiler.Cli.Chat;
using ContextCompiler.Client;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using ContextCompiler.Server;

namespace ContextCompiler.Cli.Commands;

/// <summary>
/// <c>contextc chat --endpoint URL --model NAME [--server URL]</c>: a terminal chatbot over any OpenAI-compatible endpoint,
/// with each turn's context and history from a running ContextCompiler service (see <see cref="ChatLoop"/>). The model's
/// key comes from <c>OPENAI_API_KEY</c> (or the variable <c>--api-key-env</c> names), the service's from <c>CONTEXTC_API_KEY</c>.
/// </summary>
internal static class ChatCommand
{
    public const string DefaultServer = "http://127.0.0.1:5080";
    public const string DefaultKeyVariable = "OPENAI_API_KEY";
    public const string ServiceKeyVariable = "CONTEXTC_API_KEY";

    public static Command Create()
    {
        var endpoint = new Option<string?>("--endpoint") { Description = "The OpenAI-compatible API base URL, such as https://api.openai.com/v1 or http://localhost:11434/v1." };
        var model = new Option<string?>("--model") { Description = "The chat model, such as gpt-4o-mini." };
        var keyVariable = new Option<string>("--api-key-env")
        {
            Description = $"The environment variable that holds the model's API key (default {DefaultKeyVariable}).",
            DefaultValueFactory = _ => DefaultKeyVariable,
        };
        var server = new Option<string>("--server")
        {
            Description = $"The ContextCompiler service (default {DefaultServer}); its API key, if it has keys, comes from {ServiceKeyVariable}.",
            DefaultValueFactory = _ => DefaultServer,
        };
        var budget = new Option<int?>("--budget") { Description = "Tokens per turn for context and history together (default: the service's)." };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Count budgets in this encoding's or model's tokens (o200k_base, gpt-4o, …)." };
        var user = new Option<string?>("--user") { Description = "The user id of the new service session." };

        var command = new Command("chat", "Chat with a model over OpenAI-compatible endpoints, answering from the service's cited context.")
        {
            endpoint, model, keyVariable, server, budget, tokenizer, user,
        };
        command.SetAction((result, cancellationToken) =>
        {
            var output = result.InvocationConfiguration.Output;
            var error = result.InvocationConfiguration.Error;
            return CliShared.Run(error, async () =>
            {
                var chatModel = ModelClient(result.GetValue(endpoint), result.GetValue(model), result.GetValue(keyVariable)!);
                var services = new ServiceCollection();
                var serverUri = ChatModels.Url(result.GetValue(server)!, "--server");
                services.AddContextCompilerClient(o =>
                {
                    o.BaseAddress = serverUri;
                    o.ApiKey = Environment.GetEnvironmentVariable(ServiceKeyVariable);
                });
                await using var provider = services.BuildServiceProvider();
                var loop = new ChatLoop(chatModel, provider.GetRequiredService<IContextCompilerClient>(), Console.In, output, error,
                    new ContextCompilerContextProviderOptions
                    {
                        TotalBudget = result.GetValue(budget),
                        Tokenizer = result.GetValue(tokenizer),
                        UserId = result.GetValue(user),
                    });
                await loop.RunAsync(cancellationToken);
                return 0;
            });
        });
        return command;
    }

    /// <summary>The chat model at <paramref name="endpoint"/>, with the key from the environment variable <paramref name="keyVariable"/>.</summary>
    /// <exception cref="ArgumentException">A missing endpoint, model or key, or an endpoint that is no absolute http(s) URL.</exception>
    internal static IChatClient ModelClient(string? endpoint, string? model, string keyVariable) =>
        ChatModels.OpenAiCompatible(endpoint, model, keyVariable);
}
