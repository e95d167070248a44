using System.Collections.Concurrent;
using ContextCompiler.Core.Embedding;
using ContextCompiler.Core.Tokenization;

namespace ContextCompiler.Core.Tests;

/// <summary>
/// Finds the converted assets (BPE ranks, GloVe, vec0.so) and the repository for tests.
/// The environment variable <c>CONTEXTC_ASSETS_DIR</c> wins; otherwise the <c>.assets/</c> folder next to
/// ContextCompiler.sln, found by walking up from the test binaries.
/// </summary>
public static class TestAssets
{
    /// <summary>Environment variable that points the tests at another assets folder.</summary>
    public const string EnvironmentVariable = "CONTEXTC_ASSETS_DIR";

    private static readonly Lazy<string?> Root = new(FindRepositoryRoot);
    private static readonly Lazy<string> Assets = new(FindAssets);
    private static readonly ConcurrentDictionary<string, Lazy<TiktokenTokenizer>> Tokenizers = new(StringComparer.Ordinal);
    private static readonly Lazy<GloveSifEmbedder> GloveEmbedder = new(() =>
    {
        using var stream = File.OpenRead(PathOf("glove-100d.bin"));
        return new GloveSifEmbedder(GloveVectors.Load(stream));
    });

    /// <summary>The assets folder; throws with a hint when it cannot be found.</summary>
    public static string Directory => Assets.Value;

    /// <summary>The folder holding ContextCompiler.sln.</summary>
    public static string RepositoryRoot =>
        Root.Value ?? throw new InvalidOperationException($"ContextCompiler.sln not found above {AppContext.BaseDirectory}.");

    /// <summary>Full path of a file in the assets folder.</summary>
    public static string PathOf(string fileName) => Path.Combine(Directory, fileName);

    /// <summary>A loaded tokenizer, shared by all tests (it is immutable and thread-safe).</summary>
    public static TiktokenTokenizer Tokenizer(string name = TiktokenTokenizer.O200kBase) =>
        Tokenizers.GetOrAdd(name, n => new Lazy<TiktokenTokenizer>(() =>
        {
            using var stream = File.OpenRead(PathOf(TiktokenTokenizer.AssetFileName(n)));
            return TiktokenTokenizer.Load(stream, n);
        })).Value;

    /// <summary>The GloVe-SIF embedder over the assets' vectors, shared by all tests (it is immutable).</summary>
    public static GloveSifEmbedder Glove => GloveEmbedder.Value;

    private static string FindAssets()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            if (!System.IO.Directory.Exists(fromEnvironment))
            {
                throw new InvalidOperationException($"{EnvironmentVariable} points at '{fromEnvironment}', which does not exist.");
            }
            return Path.GetFullPath(fromEnvironment);
        }
        var assets = Path.Combine(RepositoryRoot, ".assets");
        if (!System.IO.Directory.Exists(assets))
        {
            throw new InvalidOperationException(
                $"No assets folder at {assets}; build the solution once (it runs assets/prepare.mjs) or set {EnvironmentVariable}.");
        }
        return assets;
    }

    private static string? FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ContextCompiler.sln"))) return dir.FullName;
        }
        return null;
    }
}
