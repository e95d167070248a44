using ContextCompiler.Client;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ContextCompiler.AgentFramework;

/// <summary>The recommended setup: a <see cref="ChatClientAgent"/> whose context and history come from the service only.</summary>
public static class ContextCompilerAgentExtensions
{
    /// <summary>
    /// An agent over <paramref name="chatClient"/> with <paramref name="provider"/> and a <see cref="NoLocalChatHistoryProvider"/>,
    /// so the history the model receives is the service's budgeted one, once. <paramref name="options"/> (copied, not
    /// changed) adds instructions, tools or other context providers; it must not set a chat history provider of its own.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="options"/> sets a <see cref="ChatClientAgentOptions.ChatHistoryProvider"/>.</exception>
    public static ChatClientAgent AsContextCompilerAgent(
        this IChatClient chatClient, ContextCompilerContextProvider provider, ChatClientAgentOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(chatClient);
        ArgumentNullException.ThrowIfNull(provider);
        if (options?.ChatHistoryProvider is not null)
        {
            throw new ArgumentException(
                "The ContextCompiler service supplies the conversation history; a local chat history provider would keep a second copy.", nameof(options));
        }

        var agentOptions = options?.Clone() ?? new ChatClientAgentOptions();
        agentOptions.ChatHistoryProvider = new NoLocalChatHistoryProvider();
        agentOptions.AIContextProviders = [.. agentOptions.AIContextProviders ?? [], provider];
        return new ChatClientAgent(chatClient, agentOptions);
    }

    /// <summary>
    /// Registers a singleton <see cref="ContextCompilerContextProvider"/> over the registered <see cref="IContextCompilerClient"/>
    /// (see <c>AddContextCompilerClient</c>). One provider serves every agent session: its per-session state lives in the sessions.
    /// </summary>
    public static IServiceCollection AddContextCompilerContextProvider(
        this IServiceCollection services, Action<ContextCompilerContextProviderOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new ContextCompilerContextProviderOptions();
        configure?.Invoke(options);
        services.TryAddSingleton(sp => new ContextCompilerContextProvider(sp.GetRequiredService<IContextCompilerClient>(), options));
        return services;
    }
}
