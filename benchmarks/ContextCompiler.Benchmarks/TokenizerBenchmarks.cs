using System.Text;
using BenchmarkDotNet.Attributes;
using ContextCompiler.Core.Tokenization;

namespace ContextCompiler.Benchmarks;

/// <summary>
/// CountTokens throughput on a few MB of text: the repository's corpora/ when present, generated prose and
/// code otherwise. MB/s = <see cref="TextMegabytes"/> (printed at setup) divided by the mean time.
/// Run with: dotnet run -c Release --project benchmarks/ContextCompiler.Benchmarks -- --filter '*TokenizerBenchmarks*'
/// </summary>
[MemoryDiagnoser]
public class TokenizerBenchmarks
{
    private const int TargetChars = 4_000_000;

    private TiktokenTokenizer _tokenizer = null!;
    private string _text = "";
    private string[] _documents = [];

    [Params(TiktokenTokenizer.O200kBase, TiktokenTokenizer.Cl100kBase)]
    public string Encoding { get; set; } = TiktokenTokenizer.O200kBase;

    /// <summary>UTF-8 size of the benchmark text in MB (10^6 bytes).</summary>
    public double TextMegabytes => System.Text.Encoding.UTF8.GetByteCount(_text) / 1e6;

    [GlobalSetup]
    public void Setup()
    {
        var root = ContextCompiler.Engine.Assets.RepositoryLayout.Root();
        var assets = Environment.GetEnvironmentVariable("CONTEXTC_ASSETS_DIR") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : Path.Combine(root ?? throw new InvalidOperationException("ContextCompiler.sln not found; set CONTEXTC_ASSETS_DIR."), ".assets");
        using (var stream = File.OpenRead(Path.Combine(assets, TiktokenTokenizer.AssetFileName(Encoding))))
        {
            _tokenizer = TiktokenTokenizer.Load(stream, Encoding);
        }

        _documents = (root is null ? [] : CorpusDocuments(Path.Combine(root, "corpora"))).ToArray();
        if (_documents.Length == 0) _documents = GeneratedDocuments().ToArray();
        _text = string.Concat(_documents);
        Console.WriteLine($"// {Encoding}: {_documents.Length} documents, {TextMegabytes:F2} MB UTF-8, {_tokenizer.CountTokens(_text)} tokens");
    }

    /// <summary>One call over the whole text.</summary>
    [Benchmark(Baseline = true)]
    public int CountTokensWhole() => _tokenizer.CountTokens(_text);

    /// <summary>One call per document, as the pipeline counts chunks.</summary>
    [Benchmark]
    public long CountTokensPerDocument()
    {
        long total = 0;
        foreach (var document in _documents) total += _tokenizer.CountTokens(document);
        return total;
    }

    private static IEnumerable<string> CorpusDocuments(string folder)
    {
        if (!Directory.Exists(folder)) yield break;
        int chars = 0;
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetExtension(f) is ".md" or ".txt" or ".cs" or ".py" or ".html" or ".json")
            .Order(StringComparer.Ordinal);
        foreach (var file in files)
        {
            if (chars >= TargetChars) yield break;
            var text = File.ReadAllText(file);
            chars += text.Length;
            yield return text;
        }
    }

    // Deterministic stand-in when no corpus is checked out: English-like prose mixed with C# code.
    private static IEnumerable<string> GeneratedDocuments()
    {
        string[] words =
        [
            "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not",
            "database", "query", "index", "compiler", "context", "token", "budget", "retrieval", "Section", "However,",
            "transaction", "performance", "configuration", "SQLite", "vector", "document", "example", "returns", "(see", "below).",
        ];
        const string code = "public static int Sum(IReadOnlyList<int> values)\n{\n    var total = 0;\n    foreach (var v in values) total += v;\n    return total; // 42\n}\n\n";
        var random = new Random(20240601);
        int chars = 0;
        var document = new StringBuilder();
        while (chars < TargetChars)
        {
            document.Clear();
            for (int paragraph = 0; paragraph < 8; paragraph++)
            {
                int sentenceWords = random.Next(40, 120);
                for (int w = 0; w < sentenceWords; w++)
                {
                    document.Append(words[random.Next(words.Length)]).Append(random.Next(12) == 0 ? ". " : " ");
                }
                document.Append("\n\n");
                if (random.Next(3) == 0) document.Append(code);
            }
            chars += document.Length;
            yield return document.ToString();
        }
    }
}
