using System.ClientModel;
using Microsoft.Extensions.AI;
using OpenAI;

namespace ContextCompiler.Server;

/// <summary>Chat models over OpenAI-compatible endpoints, for <c>contextc chat</c> and the compaction summariser alike.</summary>
public static class ChatModels
{
    /// <summary>
    /// The chat model <paramref name="model"/> at <paramref name="endpoint"/>, with the key from the environment variable
    /// <paramref name="keyVariable"/>. <paramref name="endpointName"/>, <paramref name="modelName"/> and <paramref name="keyVariableName"/>
    /// name the settings in errors.
    /// </summary>
    /// <exception cref="ArgumentException">A missing endpoint, model or key, or an endpoint that is no absolute http(s) URL.</exception>
    public static IChatClient OpenAiCompatible(
        string? endpoint, string? model, string keyVariable, string endpointName = "--endpoint", string modelName = "--model", string keyVariableName = "--api-key-env")
    {
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            throw new ArgumentException($"{endpointName} is required: the OpenAI-compatible API base URL, such as https://api.openai.com/v1.");
        }

        if (string.IsNullOrWhiteSpace(model))
        {
            throw new ArgumentException($"{modelName} is required: the chat model to use, such as gpt-4o-mini.");
        }

        var uri = Url(endpoint, endpointName);
        string? key = Environment.GetEnvironmentVariable(keyVariable);
        if (string.IsNullOrWhiteSpace(key))
        {
            throw new ArgumentException($"The model's API key is missing: set the environment variable {keyVariable} (or name another with {keyVariableName}).");
        }

        return new OpenAI.Chat.ChatClient(model, new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = uri }).AsIChatClient();
    }

    /// <summary>An absolute http(s) URL, or an <see cref="ArgumentException"/> naming <paramref name="option"/>.</summary>
    public static Uri Url(string text, string option) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new ArgumentException($"{option} must be an absolute http or https URL, not '{text}'.");
}
