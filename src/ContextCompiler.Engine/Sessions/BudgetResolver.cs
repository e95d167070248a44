using System.Globalization;

namespace ContextCompiler.Engine.Sessions;

/// <summary>A turn's budgets once resolved.</summary>
/// <param name="Context">Working-set tokens.</param>
/// <param name="History">History tokens.</param>
/// <param name="SplitTotal">The total when neither part was given, so the working set may take what the history leaves.</param>
public sealed record TurnBudgets(int Context, int History, int? SplitTotal = null)
{
    /// <summary>
    /// The budgets once the history is built with <paramref name="historyTokens"/>: a split total gives the working set
    /// everything the history left, so a short conversation does not waste the budget; given parts stay as they are.
    /// </summary>
    public TurnBudgets AfterHistory(int historyTokens) =>
        SplitTotal is { } total ? this with { History = historyTokens, Context = total - historyTokens } : this;
}

/// <summary>
/// Resolves a turn's context and history budgets: the request's, else the session's defaults, else the store's. A total
/// is split by the context share where its parts are not given; the parts never sum above the total.
/// </summary>
public sealed class BudgetResolver(SessionStoreOptions options)
{
    /// <summary>The budgets of a turn.</summary>
    /// <exception cref="ArgumentException">A budget below 1 or above the maximum, a share outside (0, 1), or parts exceeding the total.</exception>
    public TurnBudgets Resolve(SessionBudgets? request, SessionBudgets? sessionDefaults)
    {
        Validate(request);
        Validate(sessionDefaults);
        // The request's budgets when it names any, else the session's defaults.
        var chosen = request is { ContextBudget: not null } or { HistoryBudget: not null } or { TotalBudget: not null } ? request : sessionDefaults;
        if (chosen?.TotalBudget is not { } total)
        {
            return new TurnBudgets(chosen?.ContextBudget ?? options.DefaultContextBudget, chosen?.HistoryBudget ?? options.DefaultHistoryBudget);
        }

        double share = request?.ContextShare ?? sessionDefaults?.ContextShare ?? options.DefaultContextShare;
        var budgets = (chosen.ContextBudget, chosen.HistoryBudget) switch
        {
            ({ } c, { } h) => new TurnBudgets(c, h),
            ({ } c, null) => new TurnBudgets(c, total - c),
            (null, { } h) => new TurnBudgets(total - h, h),
            _ => Split(total, share),
        };
        if (budgets.Context < 1 || budgets.History < 0 || budgets.Context + budgets.History > total)
        {
            throw new ArgumentException(
                $"contextBudget ({budgets.Context}) and historyBudget ({budgets.History}) must fit within totalBudget ({total}), with at least 1 context token.");
        }

        return budgets;
    }

    /// <summary>Checks a session's default budgets before they are stored.</summary>
    /// <exception cref="ArgumentException">Budgets that no turn could use.</exception>
    public void Check(SessionBudgets budgets) => Resolve(budgets, null);

    /// <summary>A history budget asked for on its own (for example by GET /history).</summary>
    /// <exception cref="ArgumentException">Below 1 or above the maximum.</exception>
    public int CheckHistory(int budget, string name = "maxTokens") =>
        budget >= 1 && budget <= options.MaxBudget ? budget : throw new ArgumentException($"{name} must be between 1 and {options.MaxBudget}, not {budget}.");

    private static TurnBudgets Split(int total, double share)
    {
        int context = Math.Max(1, (int)Math.Round(total * share));
        return new TurnBudgets(context, total - context, total);
    }

    private void Validate(SessionBudgets? budgets)
    {
        if (budgets is null)
        {
            return;
        }

        foreach (var (name, value) in new[] { ("contextBudget", budgets.ContextBudget), ("historyBudget", budgets.HistoryBudget), ("totalBudget", budgets.TotalBudget) })
        {
            if (value is { } v && (v < 1 || v > options.MaxBudget))
            {
                throw new ArgumentException($"{name} must be between 1 and {options.MaxBudget}, not {v}.");
            }
        }

        if (budgets.ContextShare is { } share && !(share > 0 && share < 1))
        {
            throw new ArgumentException($"contextShare must be between 0 and 1 (exclusive), not {share.ToString(CultureInfo.InvariantCulture)}.");
        }
    }
}
