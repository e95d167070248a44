using System.CommandLine;
using System.Text.Json;
using ContextCompiler.Engine.Sessions;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.Cli.Commands;

/// <summary><c>contextc sessions list|show ID|replay ID [--json]</c>: reads the sessions the server stored.</summary>
internal static class SessionsCommand
{
    public static Command Create()
    {
        var command = new Command("sessions", "Inspect stored conversation sessions.");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Replay());
        return command;
    }

    private static Option<string> TenantOption() => new("--tenant") { Description = "The tenant (API key owner); default 'default'.", DefaultValueFactory = _ => "default" };

    private static Command List()
    {
        var db = CliShared.DatabaseOption();
        var json = CliShared.JsonOption("Print {items, total} as JSON.");
        var tenant = TenantOption();
        var user = new Option<string?>("--user") { Description = "Only this user's sessions." };
        var status = new Option<string?>("--status") { Description = "open or closed." };
        var limit = new Option<int>("--limit") { Description = "Sessions to show.", DefaultValueFactory = _ => 50 };
        var command = new Command("list", "List sessions, most recently updated first.") { db, json, tenant, user, status, limit };
        command.SetAction(result => CliShared.Run(() =>
        {
            using var services = Open(result.GetValue(db)!);
            var page = services.GetRequiredService<SessionStore>().List(result.GetValue(tenant)!,
                new SessionQuery(result.GetValue(user), result.GetValue(status), OrderBy: "updatedAt", Limit: result.GetValue(limit)));
            if (result.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(page, SessionJson.Options));
                return Task.FromResult(0);
            }

            foreach (var s in page.Items)
            {
                Console.WriteLine($"{s.Id}  {s.Status,-6}  {s.MessageCount,5} msgs  updated {s.UpdatedAt:u}  user {s.UserId ?? "-"}");
            }

            Console.WriteLine($"{page.Items.Count} of {page.Total} sessions");
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command Show()
    {
        var id = new Argument<string>("ID") { Description = "The session id." };
        var db = CliShared.DatabaseOption();
        var json = CliShared.JsonOption("Print the session and its messages as JSON.");
        var tenant = TenantOption();
        var command = new Command("show", "Show a session and its messages.") { id, db, json, tenant };
        command.SetAction(result => CliShared.Run(() =>
        {
            using var services = Open(result.GetValue(db)!);
            var sessions = services.GetRequiredService<SessionStore>();
            var session = sessions.Get(result.GetValue(tenant)!, result.GetValue(id)!);
            var messages = sessions.Messages(session.Tenant, session.Id);
            if (result.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { session, messages }, SessionJson.Options));
                return Task.FromResult(0);
            }

            Console.WriteLine($"session {session.Id} ({session.Status}), user {session.UserId ?? "-"}, {session.MessageCount} messages, created {session.CreatedAt:u}");
            foreach (var m in messages)
            {
                Console.WriteLine($"[{m.Sequence}] {HistoryBuilder.Render(m)}");
            }

            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command Replay()
    {
        var id = new Argument<string>("ID") { Description = "The session id." };
        var db = CliShared.DatabaseOption();
        var json = CliShared.JsonOption("Print the replay exactly as GET /v1/sessions/{id}/replay does.");
        var tenant = TenantOption();
        var command = new Command("replay", "Replay a session turn by turn with each stored working set.") { id, db, json, tenant };
        command.SetAction(result => CliShared.Run(() =>
        {
            using var services = Open(result.GetValue(db)!);
            var replay = services.GetRequiredService<SessionStore>().Replay(result.GetValue(tenant)!, result.GetValue(id)!);
            PrintReplay(replay, result.GetValue(json), Console.Out);
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary>A replay as JSON (as GET /v1/sessions/{id}/replay sends it) or as one line per message with each working set's size.</summary>
    internal static void PrintReplay(SessionReplay replay, bool json, TextWriter output)
    {
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(replay, SessionJson.Options));
            return;
        }

        foreach (var turn in replay.Turns)
        {
            if (turn.UserMessage is { } user)
            {
                output.WriteLine($"[{user.Sequence}] {HistoryBuilder.Render(user)}");
            }

            if (turn.WorkingSet is { } set)
            {
                using var document = JsonDocument.Parse(set.Json);
                var root = document.RootElement;
                output.WriteLine($"    working set: {root.GetProperty("tokenCount").GetInt32()}/{root.GetProperty("budget").GetInt32()} tokens, " +
                    $"{root.GetProperty("citations").GetArrayLength()} citations");
            }

            foreach (var m in new[] { turn.AssistantMessage }.OfType<Message>().Concat(turn.ExtraMessages).OrderBy(m => m.Sequence))
            {
                output.WriteLine($"[{m.Sequence}] {HistoryBuilder.Render(m)}");
            }

            foreach (var c in turn.Compactions)
            {
                string by = c.Model is null ? c.Summarizer : $"{c.Summarizer}, {c.Model}";
                string fallback = c.FallbackReason is null ? string.Empty : $", fell back: {c.FallbackReason}";
                output.WriteLine($"    compaction {c.Number} ({c.Trigger}, {by}{fallback}): messages {c.FromSequence}-{c.ThroughSequence} folded, summary of 1-{c.ThroughSequence} in {c.TokenCount} tokens");
                foreach (var line in c.Summary.Split('\n'))
                {
                    output.WriteLine($"      {line}");
                }
            }
        }

        if (replay.Usage is { } usage)
        {
            output.WriteLine($"usage: {usage.Messages} messages ({usage.MessageTokens} tokens); history {usage.HistoryTokens}/{usage.HistoryBudget} tokens " +
                $"({usage.HistoryMessages} messages, summary {usage.SummaryTokens}); {usage.Compactions} compactions, {usage.EvictedMessages} messages evicted unsummarised");
        }
    }

    /// <summary>The engine over an existing database; the caller disposes it.</summary>
    internal static ServiceProvider Open(string path)
    {
        // Reading needs no compile; the embedding model loads only when a query is embedded.
        return CliShared.Existing(path, "database", "run 'contextc serve' or 'contextc ingest' first");
    }
}
