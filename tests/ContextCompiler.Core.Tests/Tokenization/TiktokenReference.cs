using System.Text.Json;

namespace ContextCompiler.Core.Tests.Tokenization;

/// <summary>One case of Fixtures/tiktoken-reference.json (written by make-tiktoken-fixture.mjs from js-tiktoken).</summary>
public sealed record TiktokenCase(string Name, string Text, IReadOnlyDictionary<string, int> Counts, IReadOnlyDictionary<string, int[]> Ids)
{
    public override string ToString() => Name;
}

/// <summary>The parsed reference fixture, loaded once.</summary>
public static class TiktokenReference
{
    private static readonly Lazy<(IReadOnlyList<TiktokenCase> Cases, string Unicode, string Classes)> Data = new(Read);

    public static IReadOnlyList<TiktokenCase> Cases => Data.Value.Cases;

    /// <summary>The Unicode version of the JavaScript engine that produced the fixture.</summary>
    public static string UnicodeVersion => Data.Value.Unicode;

    /// <summary>Runs of "startHex:bits" with Lu=1 Lt=2 Ll=4 Lm=8 Lo=16 M=32 N=64 \s=128, per the reference engine.</summary>
    public static string CodePointClasses => Data.Value.Classes;

    public static string FilePath =>
        Path.Combine(TestAssets.RepositoryRoot, "tests", "ContextCompiler.Core.Tests", "Fixtures", "tiktoken-reference.json");

    private static (IReadOnlyList<TiktokenCase>, string, string) Read()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(FilePath));
        var root = doc.RootElement;
        var cases = new List<TiktokenCase>();
        foreach (var c in root.GetProperty("cases").EnumerateArray())
        {
            // System.Text.Json refuses escaped lone surrogates, so those texts come as UTF-16 code units too.
            string text = c.TryGetProperty("utf16", out var units)
                ? new string(units.EnumerateArray().Select(u => (char)u.GetInt32()).ToArray())
                : c.GetProperty("text").GetString()!;
            var counts = new Dictionary<string, int>
            {
                ["o200k_base"] = c.GetProperty("o200k_base").GetInt32(),
                ["cl100k_base"] = c.GetProperty("cl100k_base").GetInt32(),
            };
            var ids = new Dictionary<string, int[]>();
            if (c.TryGetProperty("o200k_ids", out var o)) ids["o200k_base"] = o.EnumerateArray().Select(x => x.GetInt32()).ToArray();
            if (c.TryGetProperty("cl100k_ids", out var cl)) ids["cl100k_base"] = cl.EnumerateArray().Select(x => x.GetInt32()).ToArray();
            cases.Add(new TiktokenCase(c.GetProperty("name").GetString()!, text, counts, ids));
        }
        return (cases, root.GetProperty("unicode").GetString()!, root.GetProperty("codePointClasses").GetString()!);
    }
}
