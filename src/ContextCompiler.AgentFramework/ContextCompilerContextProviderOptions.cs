using System.Text.Json;
using ContextCompiler.Client;

namespace ContextCompiler.AgentFramework;

/// <summary>How <see cref="ContextCompilerContextProvider"/> takes turns and creates service sessions.</summary>
public sealed class ContextCompilerContextProviderOptions
{
    /// <summary>
    /// The instructions added to every run unless <see cref="Instructions"/> replaces them: answer from the context and
    /// cite its blocks as <c>[n]</c>, the form the service's citation check reads.
    /// </summary>
    public const string DefaultInstructions =
        "Answer the user's question from the numbered context blocks in this conversation. " +
        "Cite each statement taken from the context with its block number in square brackets, such as [1] or [2][3]. " +
        "Cite only numbers that appear in the context. If the context does not contain the answer, say so instead of guessing.";

    /// <summary>Tokens for the working set of each turn; null leaves it to <see cref="TotalBudget"/> or the session's defaults.</summary>
    public int? ContextBudget { get; set; }

    /// <summary>Tokens for the history sent with each turn; null leaves it to <see cref="TotalBudget"/> or the session's defaults.</summary>
    public int? HistoryBudget { get; set; }

    /// <summary>Tokens for working set and history together, split by the service; null for the separate budgets or the session's defaults.</summary>
    public int? TotalBudget { get; set; }

    /// <summary>Count budgets in this encoding's or model's tokens (o200k_base, gpt-4o, …); null for the service's tokenizer.</summary>
    public string? Tokenizer { get; set; }

    /// <summary>
    /// Whether the service folds history that leaves the window into a running summary: <see cref="CompactionModes.Auto"/>
    /// or <see cref="CompactionModes.Off"/>; null for the service's setting. Sent when a session is created and with every
    /// turn, so it also holds for a session given to <see cref="ContextCompilerContextProvider.UseServiceSession"/>.
    /// </summary>
    public string? Compaction { get; set; }

    /// <summary>How many messages must have left the history, unsummarised, before a turn compacts; null for the service's.</summary>
    public int? CompactionThreshold { get; set; }

    /// <summary>The summary's share of the history budget, in (0, 1); null for the service's.</summary>
    public double? SummaryShare { get; set; }

    /// <summary>The user id of sessions this provider creates; null for none.</summary>
    public string? UserId { get; set; }

    /// <summary>The metadata of sessions this provider creates; null for none.</summary>
    public JsonElement? Metadata { get; set; }

    /// <summary>Default budgets of sessions this provider creates; null for the service's.</summary>
    public SessionBudgets? DefaultSessionBudgets { get; set; }

    /// <summary>Instructions added to the agent's own for each run; default <see cref="DefaultInstructions"/>. Null or empty adds none.</summary>
    public string? Instructions { get; set; } = DefaultInstructions;

    /// <summary>
    /// The key of this provider's state in <c>AgentSession.StateBag</c>. Change it only to use two providers (for example two
    /// services) in one agent, since each provider's key must be unique.
    /// </summary>
    public string StateKey { get; set; } = nameof(ContextCompilerContextProvider);
}
