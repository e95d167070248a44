using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using ContextCompiler.Storage.Assets;
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

    /// <summary>Opens the index with the default embedding model, creating it when absent.</summary>
    public static IndexStore OpenStore(string path)
    {
        var assets = OfflineAssets.Default;
        var embedder = assets.Embedder;
        return IndexStore.Open(path, assets.Vec0Path, new EmbeddingModel(Core.Embedding.GloveSifEmbedder.ModelId, embedder.Dimensions));
    }

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
