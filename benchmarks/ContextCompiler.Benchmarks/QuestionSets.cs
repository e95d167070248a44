using System.Text.Json;

namespace ContextCompiler.Benchmarks;

/// <summary>The repository's question sets (<c>benchmarks/questions/*.jsonl</c>), read for their <c>query</c> fields.</summary>
internal static class QuestionSets
{
    /// <summary>The <c>query</c> of every line of <paramref name="file"/> (default: the SQLite-docs dev questions), in file order.</summary>
    public static string[] Read(string root, string file = "sqlite-docs.dev.jsonl") =>
        File.ReadLines(Path.Combine(root, "benchmarks", "questions", file)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("query").GetString()!).ToArray();
}
