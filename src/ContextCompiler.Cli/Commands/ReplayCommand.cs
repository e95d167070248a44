using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Evaluate;
using ContextCompiler.Engine.Assets;
using ContextCompiler.Engine.Sessions;

namespace ContextCompiler.Cli.Commands;

/// <summary>
/// <c>contextc replay SESSION [--json]</c> prints a stored session turn by turn;
/// <c>contextc replay SESSION --recompile [--budget N] [--set key=value ...] [--json]</c> compiles every stored user turn
/// again under other settings and compares it with the stored working set, without changing anything stored.
/// Output goes to the invocation's writers, so the command can run in-process.
/// </summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("SESSION") { Description = "The session id." };
        var recompile = new Option<bool>("--recompile") { Description = "Compile each stored user turn again and compare it with the stored working set." };
        var budget = new Option<int?>("--budget") { Description = "With --recompile: the budget of every turn (default: each turn's stored budget)." };
        var set = new Option<string[]>("--set")
        {
            Description = $"With --recompile: override a compiler option on top of each turn's recorded configuration, key=value ({string.Join(", ", CompilerOptionsParser.Keys)}).",
            AllowMultipleArgumentsPerToken = false,
        };
        var json = CliShared.JsonOption("Print the replay, or with --recompile the report, as JSON.");
        var db = CliShared.DatabaseOption();
        var tenant = new Option<string>("--tenant") { Description = "The tenant (API key owner); default 'default'.", DefaultValueFactory = _ => "default" };

        var command = new Command("replay", "Replay a stored session, or with --recompile compile its turns again and compare.")
        {
            id, recompile, budget, set, json, db, tenant,
        };
        command.SetAction((result, _) =>
        {
            var output = result.InvocationConfiguration.Output;
            var error = result.InvocationConfiguration.Error;
            return CliShared.Run(error, async () =>
            {
                var path = result.GetValue(db)!;
                var overrides = result.GetValue(set) ?? [];
                int? tokens = result.GetValue(budget);
                if (!result.GetValue(recompile) && (tokens is not null || overrides.Length > 0))
                {
                    throw new ArgumentException("--budget and --set apply to --recompile only.");
                }

                using var services = SessionsCommand.Open(path);
                var sessions = services.GetRequiredService<SessionStore>();
                if (!result.GetValue(recompile))
                {
                    SessionsCommand.PrintReplay(sessions.Replay(result.GetValue(tenant)!, result.GetValue(id)!), result.GetValue(json), output);
                    return 0;
                }

                var report = await services.GetRequiredService<SessionRecompiler>().RecompileAsync(result.GetValue(tenant)!, result.GetValue(id)!, new RecompileRequest(tokens, overrides));
                if (result.GetValue(json))
                {
                    output.WriteLine(JsonSerializer.Serialize(report, SessionJson.Options));
                }
                else
                {
                    PrintTable(report, output);
                }

                return 0;
            });
        });
        return command;
    }

    /// <summary>One row per turn, then the totals.</summary>
    internal static void PrintTable(RecompileReport report, TextWriter output)
    {
        var settings = new List<string>();
        if (report.Budget is { } b)
        {
            settings.Add($"budget {b}");
        }

        settings.AddRange(report.Overrides);
        output.WriteLine($"session {report.SessionId} recompiled with {(settings.Count == 0 ? "the stored settings" : string.Join(", ", settings))}");
        output.WriteLine($"{"turn",5}  {"budget",13}  {"tokens stored -> new",22}  {"citations",16}  {"jaccard",7}  identical");
        foreach (var t in report.Turns)
        {
            string budget = t.Budget == t.StoredBudget ? Invariant($"{t.Budget}") : Invariant($"{t.StoredBudget} -> {t.Budget}");
            string tokens = Invariant($"{t.StoredTokens} -> {t.NewTokens} ({t.TokenDelta:+0;-0;0})");
            string citations = Invariant($"+{t.Added.Count} -{t.Removed.Count} ={t.Kept.Count}");
            output.WriteLine(Invariant($"{t.Sequence,5}  {budget,13}  {tokens,22}  {citations,16}  {t.Jaccard,7:F3}  {(t.Identical ? "yes" : "no")}"));
        }

        var s = report.Summary;
        output.WriteLine(Invariant(
            $"{s.Turns} turns, {s.Identical} identical, mean Jaccard {s.MeanJaccard:F3}, mean token delta {s.MeanTokenDelta:+0.0;-0.0;0.0}, +{s.Added} -{s.Removed} ={s.Kept} citations"));
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
