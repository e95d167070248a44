using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ContextCompiler.Engine.Corpora;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.Cli.Commands;

/// <summary>
/// <c>contextc corpora list|documents CORPUS|share KEY</c>: the operator's view of the corpora tenants created over HTTP
/// and the ones ingested here, and the switch that shares a corpus read-only with every tenant. Output goes to the
/// invocation's writers, so the command can run in-process.
/// </summary>
internal static class CorporaCommand
{
    private const int PageSize = 1000;

    public static Command Create()
    {
        var command = new Command("corpora", "Inspect corpora and their documents, and share a corpus with every tenant.");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Documents());
        command.Subcommands.Add(Share());
        return command;
    }

    private static Option<string?> TenantOption(string description) => new("--tenant") { Description = description };

    private static Command List()
    {
        var db = CliShared.DatabaseOption();
        var json = CliShared.JsonOption("Print {items} as JSON (with --tenant, as GET /v1/corpora does).");
        var tenant = TenantOption("Only the corpora this tenant can read: its own, then the shared ones. Without it, every corpus with its owner.");
        var command = new Command("list", "List corpora with their owner, sharing, documents and bytes.") { db, json, tenant };
        command.SetAction((result, _) => CliShared.Run(result.InvocationConfiguration.Error, () =>
        {
            var output = result.InvocationConfiguration.Output;
            using var services = SessionsCommand.Open(result.GetValue(db)!);
            var corpora = services.GetRequiredService<ICorpusStore>();
            if (result.GetValue(tenant) is { } who)
            {
                var readable = corpora.List(who);
                if (result.GetValue(json))
                {
                    output.WriteLine(JsonSerializer.Serialize(new { items = readable }, CliShared.Json));
                    return Task.FromResult(0);
                }

                foreach (var c in readable)
                {
                    output.WriteLine($"{c.Name,-24} {c.Key,-32} {(c.Owned ? "own" : "shared"),-6} {c.Documents,6} docs {c.Bytes,12} bytes");
                }

                output.WriteLine($"{readable.Count} corpora readable by {who}");
                return Task.FromResult(0);
            }

            var all = corpora.All();
            if (result.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new { items = all }, CliShared.Json));
                return Task.FromResult(0);
            }

            foreach (var c in all)
            {
                output.WriteLine($"{c.Key,-32} {(c.Tenant is null ? "(operator)" : c.Tenant),-16} {(c.Shared ? "shared" : "private"),-7} {c.Documents,6} docs {c.Bytes,12} bytes");
            }

            output.WriteLine($"{all.Count} corpora");
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command Documents()
    {
        var corpus = new Argument<string>("CORPUS") { Description = "With --tenant, a corpus name the tenant can read; without, a corpus key (name, or tenant/name)." };
        var db = CliShared.DatabaseOption();
        var json = CliShared.JsonOption("Print {items} as JSON, as GET /v1/corpora/{corpus}/documents does (every page at once).");
        var tenant = TenantOption("Read as this tenant: its own corpus of that name, else a shared one.");
        var prefix = new Option<string?>("--prefix") { Description = "Only documents whose path starts with this." };
        var command = new Command("documents", "List a corpus's documents in path order with size, spans, tokens and status.") { corpus, db, json, tenant, prefix };
        command.SetAction((result, _) => CliShared.Run(result.InvocationConfiguration.Error, () =>
        {
            var output = result.InvocationConfiguration.Output;
            using var services = SessionsCommand.Open(result.GetValue(db)!);
            var store = services.GetRequiredService<IDocumentStore>();
            string name = result.GetValue(corpus)!;
            string? who = result.GetValue(tenant);
            var items = new List<DocumentInfo>();
            string? cursor = null;
            do
            {
                var page = who is null
                    ? store.ListByKey(name, result.GetValue(prefix), PageSize, cursor)
                    : store.List(who, name, result.GetValue(prefix), PageSize, cursor);
                items.AddRange(page.Items);
                cursor = page.NextCursor;
            }
            while (cursor is not null);

            if (result.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new { items }, CliShared.Json));
                return Task.FromResult(0);
            }

            foreach (var d in items)
            {
                output.WriteLine($"{d.Path}  {d.Status,-8} {d.Bytes,10} bytes {d.Spans,5} spans {d.Tokens,7} tokens  {d.MediaType ?? "-"}  {d.UpdatedAt.ToString("u", CultureInfo.InvariantCulture)}");
            }

            output.WriteLine($"{items.Count} documents, {items.Sum(d => d.Bytes)} bytes");
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command Share()
    {
        var key = new Argument<string>("KEY") { Description = "The corpus key: an operator corpus's name, or tenant/name." };
        var db = CliShared.DatabaseOption();
        var off = new Option<bool>("--off") { Description = "Stop sharing it: only its owner (for an operator corpus, no tenant) reads it." };
        var command = new Command("share", "Share a corpus read-only with every tenant, or with --off stop sharing it.") { key, db, off };
        command.SetAction((result, _) => CliShared.Run(result.InvocationConfiguration.Error, () =>
        {
            using var services = SessionsCommand.Open(result.GetValue(db)!);
            string corpus = result.GetValue(key)!;
            bool shared = !result.GetValue(off);
            services.GetRequiredService<ICorpusStore>().SetShared(corpus, shared);
            result.InvocationConfiguration.Output.WriteLine(shared
                ? $"corpus {corpus} is shared: every tenant can read it, only its owner can write it"
                : $"corpus {corpus} is no longer shared");
            return Task.FromResult(0);
        }));
        return command;
    }
}
