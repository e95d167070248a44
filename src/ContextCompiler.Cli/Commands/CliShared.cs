using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using ContextCompiler.Storage.Assets;
using ContextCompiler.Storage.Embedding;
using ContextCompiler.Storage.Retrieve;
using ContextCompiler.Storage.Index;
using Microsoft.Data.Sqlite;

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
    /// The embedding models, with passage embeddings cached in <c>embedding-cache.db</c> beside <paramref name="database"/>
    /// (or in the file <c>CONTEXTC_EMBEDDING_CACHE</c> names, which evaluations share too).
    /// </summary>
    public static EmbedderCatalog Catalog(string database) =>
        new(OfflineAssets.Default, Environment.GetEnvironmentVariable("CONTEXTC_EMBEDDING_CACHE")
            ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(database)) ?? ".", "embedding-cache.db"));

    /// <summary>Opens the index (creating it when absent) with <paramref name="model"/>, or the model it was built with.</summary>
    public static IndexStore OpenStore(EmbedderCatalog catalog, string path, string? model = null) => catalog.Open(path, model);

    /// <summary>A compiler over <paramref name="store"/> with its own model's query embedder.</summary>
    public static Core.Compile.WorkingSetCompiler Compiler(EmbedderCatalog catalog, IndexStore store, string tokenizer = "o200k_base") =>
        CompilerFactory.Create(store, catalog.For(store.Model.Id).Queries, OfflineAssets.Default, tokenizer);

    /// <summary>Runs a command body, turning expected failures into a message on stderr and exit code 1.</summary>
    public static async Task<int> Run(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("CONTEXTC_DEBUG") is null && e is ArgumentException or IOException or InvalidOperationException or SqliteException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"contextc: error: {e.Message}");
            return 1;
        }
    }
}
