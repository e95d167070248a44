using System.Text.Json;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace ContextCompiler.SemanticKernel;

/// <summary>
/// An <see cref="IChatHistoryReducer"/> that keeps a chat history within <see cref="MaxTokens"/> exact tokens, where SK's
/// own reducers count messages and so still overflow a model's context with a few long ones.
/// </summary>
/// <remarks>
/// <para>Rules, in order:</para>
/// <list type="number">
/// <item>System and developer messages are always kept, and count against the budget.</item>
/// <item>The newest other messages are kept as long as they fit; the first older one that does not fit ends the window,
/// since a conversation with a hole in it misleads the model more than a shorter one.</item>
/// <item>A message with function calls and the function-result messages after it are kept or dropped together, so no
/// result is sent without its call (which providers reject) and no call without its result.</item>
/// <item>When nothing needs trimming, <see cref="ReduceAsync"/> returns null, SK's sign that the history is unchanged.</item>
/// </list>
/// <para>
/// A message counts <see cref="TokensPerMessage"/> for its framing, plus its role label, its author name (and 1 more),
/// its text, each function call's id, name (<c>plugin-function</c>) and arguments as JSON, and each function result's
/// call id and result (a string as it is, anything else as JSON). The whole history counts <see cref="ReplyTokens"/>
/// once more, for the reply's priming. That is OpenAI's published accounting for chat messages (3 and 3); a provider
/// that frames tool calls in more JSON needs a larger <see cref="TokensPerMessage"/>. Images and other non-text items
/// are not counted.
/// </para>
/// </remarks>
public sealed class TokenBudgetChatHistoryReducer : IChatHistoryReducer
{
    private readonly ExactTokenCounter _counter;

    /// <summary>A reducer to <paramref name="maxTokens"/> tokens of <paramref name="tokenizer"/> (an encoding or model name).</summary>
    /// <exception cref="ArgumentException">The tokenizer is unknown.</exception>
    public TokenBudgetChatHistoryReducer(int maxTokens, string tokenizer = ExactTokenCounter.O200kBase)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxTokens);
        MaxTokens = maxTokens;
        _counter = ExactTokenCounter.For(tokenizer);
    }

    /// <summary>The most tokens the reduced history may count.</summary>
    public int MaxTokens { get; }

    /// <summary>The encoding counted in.</summary>
    public string Encoding => _counter.Encoding;

    /// <summary>Tokens of each message's framing (start, role separator, end); 3, as OpenAI counts for its chat models.</summary>
    public int TokensPerMessage
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(TokensPerMessage), value, "Must not be negative.");
    } = 3;

    /// <summary>Tokens that prime the reply, counted once per history; 3, as OpenAI counts for its chat models.</summary>
    public int ReplyTokens
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(ReplyTokens), value, "Must not be negative.");
    } = 3;

    /// <summary>The tokens <paramref name="message"/> counts, framing included.</summary>
    public int CountTokens(ChatMessageContent message)
    {
        ArgumentNullException.ThrowIfNull(message);
        int count = TokensPerMessage + _counter.Count(message.Role.Label);
        if (!string.IsNullOrEmpty(message.AuthorName))
        {
            count += _counter.Count(message.AuthorName) + 1;
        }

        foreach (var item in message.Items)
        {
            count += item switch
            {
                TextContent text => _counter.Count(text.Text),
                FunctionCallContent call => _counter.Count(call.Id) + _counter.Count(QualifiedName(call.PluginName, call.FunctionName))
                    + _counter.Count(call.Arguments is null ? "{}" : JsonSerializer.Serialize(call.Arguments.ToDictionary(a => a.Key, a => a.Value))),
                FunctionResultContent result => _counter.Count(result.CallId) + _counter.Count(ResultText(result.Result)),
                _ => 0,
            };
        }

        return count;
    }

    /// <summary>The tokens <paramref name="history"/> counts: every message's, and <see cref="ReplyTokens"/>.</summary>
    public int CountTokens(IEnumerable<ChatMessageContent> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        return ReplyTokens + history.Sum(CountTokens);
    }

    /// <inheritdoc />
    /// <returns>The messages to send, in their original order, or null when the whole history fits.</returns>
    /// <exception cref="InvalidOperationException">The system and developer messages, or they and the newest message
    /// (with its function calls and results), do not fit: no history within the budget would still be a conversation.</exception>
    public Task<IEnumerable<ChatMessageContent>?> ReduceAsync(IReadOnlyList<ChatMessageContent> chatHistory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chatHistory);
        var counts = chatHistory.Select(CountTokens).ToArray();
        int total = ReplyTokens + counts.Sum();
        if (total <= MaxTokens)
        {
            return Task.FromResult<IEnumerable<ChatMessageContent>?>(null);
        }

        var keep = new bool[chatHistory.Count];
        int used = ReplyTokens;
        var units = new List<List<int>>();
        for (int i = 0; i < chatHistory.Count; i++)
        {
            if (IsInstruction(chatHistory[i]))
            {
                keep[i] = true;
                used += counts[i];
            }
            else if (IsResultOnly(chatHistory[i]) && units.Count > 0 && HasCall(chatHistory[units[^1][0]]))
            {
                units[^1].Add(i);
            }
            else
            {
                units.Add([i]);
            }
        }

        if (used > MaxTokens)
        {
            throw new InvalidOperationException($"The system and developer messages alone count {used} tokens ({Encoding}, reply priming included), over the budget of {MaxTokens}.");
        }

        int keptUnits = 0;
        for (int u = units.Count - 1; u >= 0; u--)
        {
            int size = units[u].Sum(i => counts[i]);
            if (used + size > MaxTokens)
            {
                break;
            }

            used += size;
            keptUnits++;
            foreach (int i in units[u])
            {
                keep[i] = true;
            }
        }

        if (keptUnits == 0 && units.Count > 0)
        {
            int newest = units[^1].Sum(i => counts[i]);
            throw new InvalidOperationException(
                $"The newest message{(units[^1].Count > 1 ? " with its function results" : string.Empty)} counts {newest} tokens ({Encoding}), and with the "
                + $"system messages {used + newest}, over the budget of {MaxTokens}.");
        }

        IEnumerable<ChatMessageContent> reduced = chatHistory.Where((_, i) => keep[i]).ToList();
        return Task.FromResult<IEnumerable<ChatMessageContent>?>(reduced);
    }

    /// <summary>Reducers with the same budget and accounting reduce alike; SK's agents key their channels by reducer.</summary>
    public override bool Equals(object? obj) => obj is TokenBudgetChatHistoryReducer other
        && other.MaxTokens == MaxTokens && other.Encoding == Encoding && other.TokensPerMessage == TokensPerMessage && other.ReplyTokens == ReplyTokens;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(nameof(TokenBudgetChatHistoryReducer), MaxTokens, Encoding, TokensPerMessage, ReplyTokens);

    private static bool IsInstruction(ChatMessageContent message) =>
        message.Role == AuthorRole.System || message.Role == AuthorRole.Developer;

    private static bool HasCall(ChatMessageContent message) => message.Items.OfType<FunctionCallContent>().Any();

    private static bool IsResultOnly(ChatMessageContent message) =>
        message.Items.Count > 0 && message.Items.All(item => item is FunctionResultContent);

    // SK's connectors name a plugin's function "plugin-function" to the model.
    private static string QualifiedName(string? plugin, string function) => string.IsNullOrEmpty(plugin) ? function : $"{plugin}-{function}";

    private static string? ResultText(object? result) => result switch
    {
        null => null,
        string text => text,
        _ => JsonSerializer.Serialize(result, result.GetType()),
    };
}
