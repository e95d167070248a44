using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using ContextCompiler.Engine.Assets;
using ContextCompiler.Engine.Embedding;
using ContextCompiler.Engine;
using Microsoft.Extensions.DependencyInjection;
using StoreProviders = ContextCompiler.Engine.Stores.StoreProviders;
using ContextCompiler.Storage.Sqlite;

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

    /// <summary>
    /// <c>--provider</c>, on every command: the store, as <c>ContextCompiler:Storage:Provider</c> chooses it for the server;
    /// the environment's <c>ContextCompiler__Storage__Provider</c> when the flag is absent.
    /// </summary>
    public static readonly Option<string?> ProviderOption = new("--provider")
    {
        Description = "The store: sqlite (default) or postgres (also ContextCompiler__Storage__Provider).",
        Recursive = true,
    };

    /// <summary><c>--connection-string</c>, on every command: the store's connection string (for SQLite, a file; <c>--db</c> when absent).</summary>
    public static readonly Option<string?> ConnectionStringOption = new("--connection-string")
    {
        Description = "The store's connection string (also ContextCompiler__Storage__ConnectionString); for sqlite a file, else --db.",
        Recursive = true,
    };

    /// <summary>The store every command of this run uses: the flags, else the environment's <c>ContextCompiler__Storage__*</c>, else SQLite.</summary>
    public static StorageOptions Storage { get; private set; } = FromEnvironment();

    /// <summary>Takes the store flags of the parsed command line; called once, before the command runs.</summary>
    public static void UseStorageFlags(ParseResult parsed)
    {
        var fromEnvironment = FromEnvironment();
        Storage = new StorageOptions
        {
            Provider = parsed.GetValue(ProviderOption) ?? fromEnvironment.Provider,
            ConnectionString = parsed.GetValue(ConnectionStringOption) ?? fromEnvironment.ConnectionString,
        };
    }

    private static StorageOptions FromEnvironment() => new()
    {
        Provider = Environment.GetEnvironmentVariable("ContextCompiler__Storage__Provider") is { Length: > 0 } provider ? provider : StoreProviders.Sqlite,
        ConnectionString = Environment.GetEnvironmentVariable("ContextCompiler__Storage__ConnectionString") is { Length: > 0 } connection ? connection : null,
    };

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
                Storage = Storage,
                EmbeddingModel = model,
                EmbeddingCachePath = Environment.GetEnvironmentVariable("CONTEXTC_EMBEDDING_CACHE"),
            })
            .BuildServiceProvider();

    /// <summary>
    /// The engine over a store that must exist already (for SQLite, the file of <c>--connection-string</c> or
    /// <paramref name="database"/>); <paramref name="what"/> and <paramref name="hint"/> say what is missing and how to make it.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown provider.</exception>
    /// <exception cref="FileNotFoundException">No SQLite file there.</exception>
    public static ServiceProvider Existing(string database, string what = "index", string hint = "run 'contextc ingest' first")
    {
        // An unknown provider is the operator's mistake to report before anything else.
        _ = StoreProviders.Resolve(Storage.Provider);
        if (SqlitePath(database) is { } path && !File.Exists(path))
        {
            throw new FileNotFoundException($"No {what} at {path}; {hint}.");
        }

        return Services(database);
    }

    /// <summary>The SQLite file this run uses (<c>--connection-string</c>, else <paramref name="database"/>), or null on another store.</summary>
    public static string? SqlitePath(string database) =>
        string.Equals(Storage.Provider, StoreProviders.Sqlite, StringComparison.OrdinalIgnoreCase)
            ? SqliteStoreProvider.PathOf(new ContextCompilerOptions { DatabasePath = database, Storage = Storage })
            : null;

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
