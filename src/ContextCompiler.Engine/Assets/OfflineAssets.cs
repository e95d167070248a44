using System.Reflection;
using ContextCompiler.Core.Embedding;
using ContextCompiler.Core.Tokenization;

namespace ContextCompiler.Engine.Assets;

/// <summary>
/// Locates the converted, checksummed assets the build placed in the repository's <c>.assets/</c> folder
/// (see <c>assets/README.md</c>) and loads them once per process. Nothing is ever downloaded here.
/// </summary>
public sealed class OfflineAssets
{
    /// <summary>Environment variable that overrides the assets folder.</summary>
    public const string DirectoryVariable = "CONTEXTC_ASSETS_DIR";

    private static readonly Lazy<OfflineAssets> DefaultInstance = new(() => new OfflineAssets(Locate()));
    private readonly Dictionary<string, Lazy<ITokenizer>> _tokenizers;
    private readonly Lazy<GloveSifEmbedder> _embedder;

    /// <summary>Uses the assets in <paramref name="directory"/>.</summary>
    public OfflineAssets(string directory)
    {
        Directory = Path.GetFullPath(directory);
        _tokenizers = new(StringComparer.Ordinal)
        {
            ["o200k_base"] = new(() => LoadTokenizer("o200k_base")),
            ["cl100k_base"] = new(() => LoadTokenizer("cl100k_base")),
        };
        _embedder = new(() =>
        {
            using var stream = OpenRequired("glove-100d.bin");
            return new GloveSifEmbedder(GloveVectors.Load(stream));
        });
    }

    /// <summary>The assets of this build, shared by the whole process.</summary>
    public static OfflineAssets Default => DefaultInstance.Value;

    /// <summary>The folder holding the assets.</summary>
    public string Directory { get; }

    /// <summary>Absolute path of sqlite-vec's loadable extension; SQLite needs the absolute path.</summary>
    public string Vec0Path => RequiredPath("vec0.so");

    /// <summary>The tiktoken tokenizer named <paramref name="encoding"/> (o200k_base or cl100k_base).</summary>
    public ITokenizer Tokenizer(string encoding = "o200k_base") =>
        _tokenizers.TryGetValue(encoding, out var lazy) || _tokenizers.TryGetValue(TokenizerModels.EncodingOf(encoding, this), out lazy)
            ? lazy.Value
            : throw new ArgumentException($"Unknown tokenizer '{encoding}'. Known: {string.Join(", ", _tokenizers.Keys)}.", nameof(encoding));

    /// <summary>The encodings this service counts with itself.</summary>
    public IReadOnlyCollection<string> Encodings => _tokenizers.Keys;

    /// <summary>The default sentence embedder (GloVe with SIF weighting).</summary>
    public GloveSifEmbedder Embedder => _embedder.Value;

    private ITokenizer LoadTokenizer(string encoding)
    {
        using var stream = OpenRequired($"{encoding}.tiktoken.bin");
        return TiktokenTokenizer.Load(stream, encoding);
    }

    private FileStream OpenRequired(string name) =>
        new(RequiredPath(name), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);

    private string RequiredPath(string name)
    {
        var path = Path.Combine(Directory, name);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"Asset '{name}' is missing from {Directory}. Build the solution (dotnet build) to obtain it, or set {DirectoryVariable}.", path);
        }

        return path;
    }

    private static string Locate()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return fromEnvironment;
        }

        var stamped = typeof(OfflineAssets).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "ContextCompiler.AssetsDir")?.Value;
        return stamped ?? throw new InvalidOperationException($"No assets folder is known; set {DirectoryVariable}.");
    }
}
