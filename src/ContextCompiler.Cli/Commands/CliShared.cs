using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using ContextCompiler.Storage.Assets;
using ContextCompiler.Storage.Embedding;
using ContextCompiler.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.Cli.Commands;

/// <summary>Options, JSON settings and error handling shared by every command.</summary>
internal static class CliShared
{
    public const string DefaultDatabase = "data/contextcompiler.db";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        // Spans hold code and HTML; escaping < > & ' would make exported text unreadable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static Option<string> DatabaseOption() => new("--db")
    {
        Description = $"The index database file (default {DefaultDatabase}).",
        DefaultValueFactory = _ => DefaultDatabase,
    };

    public static Option<bool> JsonOption(string description) => new("--json") { Description = description };

    public static Option<string?> ModelOption() => new("--model")
    {
        Description = $"Embedding model ({string.Join(", ", EmbedderCatalog.Known)}); default: the index's own, or {EmbedderCatalog.DefaultModel} for a new index.",
    };

    /// <summary>
    /// The engine over <paramref name="database"/>, wired by the same composition root as the server and the evaluation
    /// runner. <paramref name="model"/> chooses the model of a new index (an existing index keeps its own). Passage
    /// embeddings are cached beside the database, or in the file <c>CONTEXTC_EMBEDDING_CACHE</c> names.
    /// </summary>
    public static ServiceProvider Services(string database, string? model = null) =>
        new ServiceCollection()
            .AddContextCompiler(new ContextCompilerOptions
            {
                DatabasePath = database,
                EmbeddingModel = model,
                EmbeddingCachePath = Environment.GetEnvironmentVariable("CONTEXTC_EMBEDDING_CACHE"),
            })
            .BuildServiceProvider();

    /// <summary>
    /// The embedding models, with passage embeddings cached in <c>embedding-cache.db</c> beside <paramref name="database"/>
    /// (or in the file <c>CONTEXTC_EMBEDDING_CACHE</c> names, which evaluations share too).
    /// </summary>
    public static EmbedderCatalog Catalog(string database) =>
        new(OfflineAssets.Default, Environment.GetEnvironmentVariable("CONTEXTC_EMBEDDING_CACHE")
            ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(database)) ?? ".", "embedding-cache.db"));

    /// <summary>Runs a command body, turning expected failures into a message on stderr and their <see cref="ExitCodes"/>.</summary>
    public static Task<int> Run(Func<Task<int>> body) => Run(Console.Error, body);

    /// <summary>
    /// Runs a command body, turning expected failures into a message on <paramref name="error"/> and the exit code of
    /// their kind (<see cref="ExitCodes"/>). With <c>CONTEXTC_DEBUG</c> set, they keep their stack trace.
    /// </summary>
    public static async Task<int> Run(TextWriter error, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("CONTEXTC_DEBUG") is null && ExitCodes.For(e) is { } code)
        {
            // A missing session, a taken corpus name or a quota is the operator's to fix, like a missing file: a message, not a stack trace.
            await error.WriteLineAsync($"contextc: error: {e.Message}");
            return code;
        }
    }
}
