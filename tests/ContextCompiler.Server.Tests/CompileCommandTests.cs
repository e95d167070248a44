using System.CommandLine;
using System.Text.Json;
using ContextCompiler.Cli.Commands;

namespace ContextCompiler.Server.Tests;

/// <summary><c>contextc compile --queries FILE --jsonl</c>, the evaluators' batch mode, against a real server's database.</summary>
public sealed class CompileCommandTests(SharedServer server) : IClassFixture<SharedServer>, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("contextc-compile-").FullName;

    // The server makes its database (and ingests the corpus into it) when it starts, which its first client does.
    private readonly HttpClient _client = server.Factory.Client();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Batch_mode_takes_plain_lines_and_question_set_lines_and_compiles_only_the_question()
    {
        string file = Path.Combine(_folder, "questions.jsonl");
        await File.WriteAllLinesAsync(file,
        [
            """{"id": "q-1", "query": "How do I turn on write-ahead logging?", "relevant": ["sqlite-docs/wal.md"]}""",
            "",
            "what happens when the database is locked",
            "{not json, so a query as it is}",
        ]);

        var (exit, output, error) = await Contextc("compile", "--queries", file, "--budget", "300", "--jsonl");

        Assert.True(exit == 0, error);
        var sets = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(
            ["How do I turn on write-ahead logging?", "what happens when the database is locked", "{not json, so a query as it is}"],
            sets.Select(s => s.GetProperty("query").GetString()));
        Assert.All(sets, s => Assert.True(s.GetProperty("tokenCount").GetInt32() <= 300));
    }

    [Fact]
    public async Task A_json_line_without_a_query_is_refused_with_its_line_number()
    {
        string file = Path.Combine(_folder, "bad.jsonl");
        await File.WriteAllLinesAsync(file, ["wal mode", """{"id": "q-2", "question": "misnamed field"}"""]);

        var (exit, output, error) = await Contextc("compile", "--queries", file, "--budget", "300", "--jsonl");

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Contains("Line 2", error, StringComparison.Ordinal);
        Assert.Contains("\"query\"", error, StringComparison.Ordinal);
    }

    private async Task<(int Exit, string Output, string Error)> Contextc(params string[] args)
    {
        for (int attempt = 0; attempt < 100 && !(await _client.GetAsync("/health/ready")).IsSuccessStatusCode; attempt++)
        {
            await Task.Delay(100);
        }

        using var output = new StringWriter();
        using var error = new StringWriter();
        int exit = await CompileCommand.Create().Parse([.. args, "--db", server.Factory.DatabasePath])
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }
}
