using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ContextCompiler.Engine.Index;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Cli.Commands;

/// <summary><c>contextc export [--db FILE]</c>: every span as a JSON line.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var db = CliShared.DatabaseOption();
        var command = new Command("export", "Write every span as JSON lines: corpus, path, startLine, endLine, text, tokens.") { db };
        command.SetAction((result, _) => CliShared.Run(async () =>
        {
            var path = result.GetValue(db)!;
            using var services = CliShared.Existing(path);
            var reader = new IndexReader(SqliteStore.Of(services).Index);
            await using var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false, NewLine = "\n" };
            foreach (var span in reader.ExportSpans())
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(span, CliShared.Json));
            }

            return 0;
        }));
        return command;
    }
}
