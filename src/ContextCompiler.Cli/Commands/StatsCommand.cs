using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ContextCompiler.Engine.Index;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Cli.Commands;

/// <summary><c>contextc stats [--db FILE] [--json]</c></summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var db = CliShared.DatabaseOption();
        var json = CliShared.JsonOption("Print the statistics as JSON.");
        var command = new Command("stats", "Show what the index holds.") { db, json };
        command.SetAction((result, _) => CliShared.Run(() =>
        {
            var path = result.GetValue(db)!;
            using var services = CliShared.Existing(path);
            var stats = new IndexReader(SqliteStore.Of(services).Index).Stats();
            if (result.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(stats, CliShared.Json));
                return Task.FromResult(0);
            }

            Console.WriteLine($"index      {stats.Path} ({stats.FileBytes / 1024.0 / 1024.0:F1} MiB, schema v{stats.SchemaVersion}, generation {stats.IndexGeneration})");
            Console.WriteLine($"embedding  {stats.EmbeddingModel} ({stats.EmbeddingDimensions} dims, {stats.Vectors} vectors)");
            Console.WriteLine($"total      {stats.Artifacts} artifacts, {stats.Spans} spans, {stats.Tokens} tokens");
            foreach (var corpus in stats.Corpora)
            {
                Console.WriteLine($"  {corpus.Corpus,-20} {corpus.Artifacts,6} artifacts {corpus.Spans,8} spans {corpus.Tokens,10} tokens {corpus.Bytes / 1024.0:F0} KiB");
            }

            return Task.FromResult(0);
        }));
        return command;
    }
}
