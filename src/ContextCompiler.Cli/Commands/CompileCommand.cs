using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Retrieve;
using ContextCompiler.Engine.Assets;

namespace ContextCompiler.Cli.Commands;

/// <summary>
/// <c>contextc compile "QUERY" [--budget N] [--json] [--explain]</c>, or in batch
/// <c>contextc compile --queries FILE --budget N --jsonl</c>.
/// </summary>
internal static class CompileCommand
{
    public static Command Create()
    {
        var query = new Argument<string?>("QUERY") { Description = "What the context is for.", Arity = ArgumentArity.ZeroOrOne };
        var budget = new Option<int>("--budget") { Description = "Token budget of the whole rendered working set.", DefaultValueFactory = _ => 1000 };
        var db = CliShared.DatabaseOption();
        var json = CliShared.JsonOption("Print the WorkingSet as JSON.");
        var explain = new Option<bool>("--explain") { Description = "Include every candidate's fate and each stage's timing." };
        var queries = new Option<string?>("--queries")
        {
            Description = "A file with one query per line, or JSON lines with a \"query\" field as in benchmarks/questions (batch mode).",
        };
        var jsonl = new Option<bool>("--jsonl") { Description = "With --queries: one WorkingSet JSON per line." };
        var corpus = new Option<string?>("--corpus") { Description = "Only retrieve from this corpus." };
        var prefix = new Option<string?>("--path-prefix") { Description = "Only retrieve from paths starting with this." };
        var tokenizer = new Option<string>("--tokenizer") { Description = "Tokenizer that counts the budget: an encoding (o200k_base, cl100k_base) or a model name (gpt-4o, gpt-4.1, gpt-4, gpt-3.5-turbo, text-embedding-3-small, ...).", DefaultValueFactory = _ => "o200k_base" };
        var set = new Option<string[]>("--set") { Description = $"Override a compiler option: key=value ({string.Join(", ", CompilerOptionsParser.Keys)}).", AllowMultipleArgumentsPerToken = false };

        var command = new Command("compile", "Compile a query into a cited working set within a token budget.")
        {
            query, budget, db, json, explain, queries, jsonl, corpus, prefix, tokenizer, set,
        };
        command.SetAction((result, cancellation) => CliShared.Run(result.InvocationConfiguration.Error, async () =>
        {
            var path = result.GetValue(db)!;
            var options = CompilerOptionsParser.Apply(new CompilerOptions(), result.GetValue(set) ?? []);
            var filter = new RetrievalFilter(result.GetValue(corpus), result.GetValue(prefix));
            using var services = CliShared.Existing(path);
            var compiler = services.GetRequiredService<WorkingSetCompiler>();
            // Resolved before any query runs, so an unknown name fails at once.
            string counter = compiler.TokenizerFor(result.GetValue(tokenizer)).Name;
            int tokens = result.GetValue(budget);
            bool withExplain = result.GetValue(explain);

            if (result.GetValue(queries) is { } file)
            {
                if (!result.GetValue(jsonl))
                {
                    throw new ArgumentException("Batch mode prints JSON lines; add --jsonl.");
                }

                var output = result.InvocationConfiguration.Output;
                var lines = await File.ReadAllLinesAsync(file, cancellation);
                // Every line is read before the first compile, so a bad line fails the run before it prints anything.
                var batch = lines.Select((line, i) => (Line: line, Number: i + 1)).Where(l => !string.IsNullOrWhiteSpace(l.Line))
                    .Select(l => QueryOf(l.Line, file, l.Number)).ToList();
                foreach (var batchQuery in batch)
                {
                    var set1 = await compiler.CompileAsync(new CompileRequest(batchQuery, tokens, filter, options, withExplain, Tokenizer: counter), cancellation);
                    await output.WriteAsync(JsonSerializer.Serialize(set1, CliShared.Json) + "\n");
                }

                return 0;
            }

            var text = result.GetValue(query);
            if (string.IsNullOrWhiteSpace(text))
            {
                throw new ArgumentException("Give a QUERY, or --queries FILE --jsonl.");
            }

            var workingSet = await compiler.CompileAsync(new CompileRequest(text, tokens, filter, options, withExplain, Tokenizer: counter), cancellation);
            if (result.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(workingSet, CliShared.Json));
                return 0;
            }

            Console.WriteLine(workingSet.Text);
            await Console.Error.WriteLineAsync(
                $"-- {workingSet.TokenCount}/{workingSet.Budget} tokens ({workingSet.Utilization:P0}), {workingSet.Citations.Count} citations, " +
                $"context {workingSet.Manifest.ContextHash[..12]}{(workingSet.Reason is null ? string.Empty : ": " + workingSet.Reason)}");
            if (workingSet.Explain is { } details)
            {
                foreach (var c in details.Candidates)
                {
                    await Console.Error.WriteLineAsync($"   {c.Outcome,-8} {c.FusedScore,8:F4} {c.Corpus}/{c.Path}:L{c.StartLine}-L{c.EndLine} {c.Reason} {c.Detail}");
                }

                await Console.Error.WriteLineAsync("   " + string.Join(", ", details.Timings.Select(t => $"{t.Stage} {t.Milliseconds:F2} ms")));
            }

            return 0;
        }));
        return command;
    }

    // A line is a query as it is, unless it is a JSON object: a question set's line ({"id", "query", "relevant"}), whose
    // other fields (the relevant page's path) must not become part of the query.
    private static string QueryOf(string line, string file, int number)
    {
        string text = line.Trim();
        if (!text.StartsWith('{'))
        {
            return text;
        }

        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            return text;
        }

        using (json)
        {
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("query", out var query) && query.ValueKind == JsonValueKind.String
                ? query.GetString()!
                : throw new ArgumentException($"Line {number} of {file} is a JSON object without a \"query\" string; give one query per line, or JSON lines with a \"query\" field.");
        }
    }
}
