using System.ClientModel;
using System.Globalization;
using ContextCompiler.AgentFramework;
using ContextCompiler.Client;
using Microsoft.Extensions.AI;

namespace ContextCompiler.Cli.Chat;

/// <summary>
/// The terminal chatbot of <c>contextc chat</c>: reads questions line by line, answers each through an agent whose context
/// and history come from the ContextCompiler service, and prints the answer, its citations and the service's citation
/// check. <c>/exit</c> or the end of input ends it. It takes its model, service and streams as parameters so that a test
/// can run it against the in-process server with a scripted model.
/// </summary>
internal sealed class ChatLoop(
    IChatClient model, IContextCompilerClient service, TextReader input, TextWriter output, TextWriter error,
    ContextCompilerContextProviderOptions? options = null)
{
    public const string ExitCommand = "/exit";

    /// <summary>Runs until <c>/exit</c> or the end of input; returns the service session's id, or null when no turn was taken.</summary>
    public async Task<string?> RunAsync(CancellationToken cancellationToken = default)
    {
        var provider = new ContextCompilerContextProvider(service, options);
        var agent = model.AsContextCompilerAgent(provider);
        var session = await agent.CreateSessionAsync(cancellationToken);
        await output.WriteLineAsync($"Ask about the indexed sources; {ExitCommand} or end of input quits.");
        while (true)
        {
            await output.WriteAsync("> ");
            await output.FlushAsync(cancellationToken);
            string? line = await input.ReadLineAsync(cancellationToken);
            if (line is null || line.Trim() == ExitCommand)
            {
                break;
            }

            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                var response = await agent.RunAsync(line, session, cancellationToken: cancellationToken);
                await output.WriteLineAsync(response.Text);
                await PrintSourcesAsync(provider.GetState(session));
            }
            catch (Exception e) when (e is HttpRequestException or ClientResultException or ContextCompilerException and not UnauthorizedException)
            {
                // One failed turn (a model or service hiccup) should not end the conversation; nothing was stored as its answer.
                await error.WriteLineAsync($"contextc: error: {e.Message}");
            }
        }

        string? id = provider.GetState(session).SessionId;
        await output.WriteLineAsync(id is null
            ? "No turns were taken."
            : $"session {id} (contextc replay {id} --db <the server's database> --tenant <your tenant>)");
        return id;
    }

    private async Task PrintSourcesAsync(ContextCompilerSessionState state)
    {
        if (state.LastTurn is not { } turn)
        {
            return;
        }

        if (turn.Citations.Count == 0)
        {
            await output.WriteLineAsync($"  (no context: {turn.EmptyReason ?? "nothing matched"})");
        }

        foreach (var c in turn.Citations)
        {
            await output.WriteLineAsync(Invariant($"  [{c.N}] {c.Corpus}/{c.Path}:{c.StartLine}-{c.EndLine}"));
        }

        if (state.LastReply?.CitationCheck is not { } check)
        {
            return;
        }

        await output.WriteLineAsync(Invariant(
            $"  check: used {Markers(check.Used)}, unknown {Markers(check.Unknown)}, {check.SentencesWithMarker} of {check.Sentences} sentences cite ({check.MarkedShare * 100:0}%)"));
        if (check.Unknown.Count > 0)
        {
            await output.WriteLineAsync($"  warning: the answer cites {Markers(check.Unknown)}, which this turn's context does not have");
        }
    }

    private static string Markers(IReadOnlyList<int> numbers) => numbers.Count == 0 ? "none" : string.Concat(numbers.Select(n => Invariant($"[{n}]")));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
