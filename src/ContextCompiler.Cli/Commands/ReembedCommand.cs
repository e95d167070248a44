using System.CommandLine;
using ContextCompiler.Engine.Index;
using Spectre.Console;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Cli.Commands;

/// <summary><c>contextc reembed --model M [--db FILE]</c>: moves an index to another embedding model; text and sessions stay.</summary>
internal static class ReembedCommand
{
    public static Command Create()
    {
        var db = CliShared.DatabaseOption();
        var model = new Option<string>("--model")
        {
            Description = $"The model to move to: {string.Join(", ", Engine.Embedding.EmbedderCatalog.Known)}.",
            Required = true,
        };
        var command = new Command("reembed", "Move an index to another embedding model: drop its vectors and embed every span again (cached embeddings are reused).")
        {
            db, model,
        };
        command.SetAction((result, cancellation) => CliShared.Run(async () =>
        {
            // Moving an index to another model rewrites the SQLite file in place; other stores have no such command yet.
            var path = CliShared.SqlitePath(result.GetValue(db)!)
                ?? throw new ArgumentException($"contextc reembed works on the SQLite store only, not '{CliShared.Storage.Provider}'.");
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"No index at {path}; run 'contextc ingest' first.");
            }

            using var catalog = CliShared.Catalog(path);
            var target = catalog.Describe(result.GetValue(model)!);
            var before = IndexStore.StoredModel(path);
            using var store = before == target ? catalog.Open(path, target.Id) : IndexStore.SwitchModel(path, Engine.Assets.OfflineAssets.Default.Vec0Path, target);
            var indexer = new VectorIndexer(store, catalog.For(target.Id).Passages);
            VectorFillReport report;
            if (Console.IsErrorRedirected)
            {
                report = await indexer.FillAsync(null, cancellation);
            }
            else
            {
                VectorFillReport? filled = null;
                await AnsiConsole.Progress().AutoClear(true).StartAsync(async context =>
                {
                    var task = context.AddTask("embedding", maxValue: 1);
                    filled = await indexer.FillAsync(new Progress<VectorProgress>(p =>
                    {
                        task.MaxValue = Math.Max(1, p.Total);
                        task.Value = p.Done;
                        task.Description = $"vectors {p}";
                    }), cancellation);
                });
                report = filled!;
            }

            Console.WriteLine($"{before?.Id ?? "none"} -> {target.Id}: {report.Embedded} spans embedded, {report.Total} in all, in {report.ElapsedMs} ms -> {store.Path}");
            return 0;
        }));
        return command;
    }
}
