using ContextCompiler.Client;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace ContextCompiler.AgentFramework;

/// <summary>
/// Gives an agent the ContextCompiler service's context. Before each run it takes a turn on the service with the run's last
/// user message (creating the service session on first use and keeping its id in the agent session's <c>StateBag</c>), and
/// puts the service's budgeted history and the turn's cited working set before that message, with instructions to cite
/// blocks as <c>[n]</c>. When the service has compacted the conversation, its summary comes first, as a system message,
/// in place of the messages it covers; the provider never summarises by itself. After a successful run it stores the reply as the turn's assistant message; the service's citation
/// check of it is then in <see cref="GetState"/>. A failed run stores nothing.
/// </summary>
/// <remarks>
/// The service's history replaces the agent's own: messages a local <see cref="ChatHistoryProvider"/> supplies are left
/// out of the request, so the model never receives one exchange twice. Build the agent with
/// <see cref="ContextCompilerAgentExtensions.AsContextCompilerAgent"/> so that no local history is kept in the first place.
/// History messages go to the model as chat messages with their roles; the service counted them as its rendered
/// <c>Role: content</c> text, so a model API's per-message framing tokens come on top of the history budget.
/// </remarks>
public sealed class ContextCompilerContextProvider : AIContextProvider
{
    /// <summary>The header of the message that carries the working set.</summary>
    public const string ContextHeader = "Context for the user's next message. Each block starts with [n], its source path and its lines:";

    private readonly IContextCompilerClient _client;
    private readonly ContextCompilerContextProviderOptions _options;
    private readonly ProviderSessionState<ContextCompilerSessionState> _state;

    /// <summary>A provider that takes turns through <paramref name="client"/>.</summary>
    public ContextCompilerContextProvider(IContextCompilerClient client, ContextCompilerContextProviderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _options = options ?? new ContextCompilerContextProviderOptions();
        ArgumentException.ThrowIfNullOrWhiteSpace(_options.StateKey);
        _state = new ProviderSessionState<ContextCompilerSessionState>(_ => new ContextCompilerSessionState(), _options.StateKey, ContextCompilerJson.Options);
    }

    /// <inheritdoc />
    public override IReadOnlyList<string> StateKeys => [_options.StateKey];

    /// <summary>The service session, latest turn and latest reply of <paramref name="session"/> (empty before its first run).</summary>
    public ContextCompilerSessionState GetState(AgentSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return _state.GetOrInitializeState(session);
    }

    /// <summary>
    /// Uses the existing service session <paramref name="sessionId"/> for <paramref name="session"/>, for example to continue a
    /// conversation that started elsewhere. Its stored messages become the history of the next turn.
    /// </summary>
    public void UseServiceSession(AgentSession session, string sessionId)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentException.ThrowIfNullOrWhiteSpace(sessionId);
        _state.SaveState(session, new ContextCompilerSessionState { SessionId = sessionId });
    }

    /// <inheritdoc />
    protected override async ValueTask<AIContext> InvokingCoreAsync(InvokingContext context, CancellationToken cancellationToken = default)
    {
        // The base class appends provided messages after the caller's, which would put the history and the context after
        // the question they belong before; this keeps its filtering and source stamping but puts them first.
        var input = context.AIContext;
        var provided = await ProvideAIContextAsync(context, cancellationToken).ConfigureAwait(false);

        var ours = (provided.Messages ?? []).Select(m => m.WithAgentRequestMessageSource(AgentRequestMessageSourceType.AIContextProvider, GetType().FullName!));
        // The service's history is the conversation; a local history provider's copy of it would send each exchange twice.
        var rest = (input.Messages ?? []).Where(m => m.GetAgentRequestMessageSourceType() != AgentRequestMessageSourceType.ChatHistory);
        return new AIContext
        {
            Instructions = (input.Instructions, provided.Instructions) switch
            {
                (null, var b) => b,
                (var a, null) => a,
                (var a, var b) => a + "\n" + b,
            },
            Messages = [.. ours, .. rest],
            Tools = input.Tools,
        };
    }

    /// <summary>Takes the turn for the last user message and returns the history, the working set and the cite instructions.</summary>
    protected override async ValueTask<AIContext> ProvideAIContextAsync(InvokingContext context, CancellationToken cancellationToken = default)
    {
        var session = context.Session ?? throw new InvalidOperationException(
            $"{nameof(ContextCompilerContextProvider)} needs an agent session to keep its service session in; run the agent with one.");
        var state = _state.GetOrInitializeState(session);
        // Only the caller's own messages (the filter is idempotent, so a context the base class filtered already is fine).
        var question = ProvideInputMessageFilter(context.AIContext.Messages ?? [])
            .LastOrDefault(m => m.Role == ChatRole.User && !string.IsNullOrWhiteSpace(m.Text));
        if (question is null)
        {
            // Nothing to retrieve for; forgetting the last turn keeps the coming reply from being stored as its answer.
            state.LastTurn = null;
            state.LastReply = null;
            _state.SaveState(session, state);
            return new AIContext();
        }

        state.SessionId ??= (await _client.CreateSessionAsync(
            new CreateSessionRequest(
                _options.UserId, _options.Metadata, _options.DefaultSessionBudgets, _options.Compaction, _options.CompactionThreshold, _options.SummaryShare),
            cancellationToken).ConfigureAwait(false)).Id;
        // Saved before the turn, so that a failed turn still leaves the session id with the agent session.
        _state.SaveState(session, state);

        var turn = await _client.TakeTurnAsync(
            state.SessionId,
            new TurnRequest(
                question.Text, _options.ContextBudget, _options.HistoryBudget, _options.TotalBudget, Tokenizer: _options.Tokenizer,
                Compaction: _options.Compaction, CompactionThreshold: _options.CompactionThreshold, SummaryShare: _options.SummaryShare),
            cancellationToken).ConfigureAwait(false);

        var workingSet = turn.WorkingSet.Value;
        state.LastTurn = new ContextCompilerTurn(
            turn.UserMessage.Id, workingSet.Citations, turn.ContextTokens, turn.HistoryTokens, turn.History.Messages.Count, workingSet.Reason,
            turn.History.Summary, turn.Compaction is not null);
        state.LastReply = null;
        _state.SaveState(session, state);

        var messages = new List<ChatMessage>();
        if (turn.History.SummaryBlock() is { } summary)
        {
            // The block as the service counted it in the history budget, heading included, so the model knows what it stands for.
            messages.Add(new ChatMessage(ChatRole.System, summary) { MessageId = turn.History.Summary!.Id });
        }

        messages.AddRange(turn.History.Messages.Select(ToChatMessage));
        messages.Add(new ChatMessage(ChatRole.System, ContextMessage(workingSet)));
        return new AIContext
        {
            Instructions = string.IsNullOrEmpty(_options.Instructions) ? null : _options.Instructions,
            Messages = messages,
        };
    }

    /// <summary>Stores the run's reply as the assistant message of the turn it answers and keeps the service's citation check.</summary>
    protected override async ValueTask StoreAIContextAsync(InvokedContext context, CancellationToken cancellationToken = default)
    {
        // The base class calls this only for successful runs, so a failed model call stores no assistant message.
        if (context.Session is not { } session)
        {
            return;
        }

        var state = _state.GetOrInitializeState(session);
        string reply = string.Join("\n", (context.ResponseMessages ?? [])
            .Where(m => m.Role == ChatRole.Assistant && !string.IsNullOrWhiteSpace(m.Text))
            .Select(m => m.Text));
        if (state.SessionId is null || state.LastTurn is null || state.LastReply is not null || reply.Length == 0)
        {
            return;
        }

        state.LastReply = await _client.AddMessageAsync(state.SessionId, new AddMessageRequest(MessageRoles.Assistant, reply), cancellationToken)
            .ConfigureAwait(false);
        _state.SaveState(session, state);
    }

    /// <summary>The working set as the model reads it: the header and the service's rendered blocks, or why there are none.</summary>
    public static string ContextMessage(WorkingSet workingSet)
    {
        ArgumentNullException.ThrowIfNull(workingSet);
        return workingSet.Citations.Count == 0
            ? $"No context was found for the user's next message ({workingSet.Reason ?? "nothing matched"}). Say that the indexed sources do not cover it."
            : ContextHeader + "\n\n" + workingSet.Text;
    }

    // One chat message per stored message keeps roles the model understands; the id lets callers match it to the service.
    private static ChatMessage ToChatMessage(Message message) => new(message.Role switch
    {
        MessageRoles.User => ChatRole.User,
        MessageRoles.Assistant => ChatRole.Assistant,
        MessageRoles.System => ChatRole.System,
        MessageRoles.Tool => ChatRole.Tool,
        _ => new ChatRole(message.Role),
    }, message.Content)
    {
        MessageId = message.Id,
    };
}
