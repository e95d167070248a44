using System.Diagnostics;
using System.Globalization;
using ContextCompiler.Engine.Assets;
using MlTiktoken = Microsoft.ML.Tokenizers.TiktokenTokenizer;

namespace ContextCompiler.Benchmarks;

/// <summary>
/// The project's BPE against Microsoft.ML.Tokenizers, counting the whole default corpus file by file:
///   dotnet run -c Release --project benchmarks/ContextCompiler.Benchmarks -- tokenizers [--passes 7]
/// Prints MB/s (median of the timed passes, after one warm-up pass) and the number of files counted differently.
/// </summary>
internal static class TokenizerComparison
{
    public static int Run(string[] args)
    {
        int passes = int.Parse(BenchmarkArgs.Option(args, "--passes", "7"), CultureInfo.InvariantCulture);
        var corpus = RepositoryLayout.DefaultCorpus() ?? throw new InvalidOperationException("Run inside the repository: corpora/sqlite-docs is needed.");
        var texts = Directory.EnumerateFiles(corpus, "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(File.ReadAllText).ToList();
        double megabytes = texts.Sum(t => (double)System.Text.Encoding.UTF8.GetByteCount(t)) / 1e6;
        Console.WriteLine($"{texts.Count} files, {megabytes:F2} MB; {passes} timed passes after one warm-up, one thread.\n");
        Console.WriteLine("| Encoding | Tokenizer | MB/s (median) | min–max | Files counted differently |");
        Console.WriteLine("|---|---|---:|---|---:|");
        foreach (var (model, encoding) in new[] { ("gpt-4o", "o200k_base"), ("gpt-4", "cl100k_base") })
        {
            var ours = OfflineAssets.Default.Tokenizer(encoding);
            var reference = MlTiktoken.CreateForModel(model);
            int differing = texts.Count(t => ours.CountTokens(t) != reference.CountTokens(t));
            Row(encoding, "ContextCompiler BPE", t => ours.CountTokens(t), differing);
            Row(encoding, "Microsoft.ML.Tokenizers 2.0.1", t => reference.CountTokens(t), differing);
        }

        return 0;

        void Row(string encoding, string name, Func<string, int> count, int differing)
        {
            var rates = new List<double>();
            for (int pass = 0; pass <= passes; pass++)
            {
                var clock = Stopwatch.StartNew();
                long sum = 0;
                foreach (var text in texts)
                {
                    sum += count(text);
                }

                if (pass > 0)
                {
                    rates.Add(megabytes / clock.Elapsed.TotalSeconds);
                }
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {encoding} | {name} | {BenchmarkArgs.Percentile(rates, 50):F1} | {rates.Min():F1}–{rates.Max():F1} | {differing} |"));
        }
    }
}
