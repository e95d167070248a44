using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Tokenization;
using ContextCompiler.Engine.Assets;
using ContextCompiler.Engine.Corpora;
using ContextCompiler.Engine.Embedding;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Sessions;
using ContextCompiler.Engine.Sessions.Compacting;
using ContextCompiler.Engine.Stores;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace ContextCompiler.Engine;

/// <summary>What the engine runs on: the index file, its embedding model, the embedding cache and the session rules.</summary>
public class ContextCompilerOptions
{
    /// <summary>The SQLite file holding the index and the sessions (default data/contextcompiler.db).</summary>
    public string DatabasePath { get; set; } = "data/contextcompiler.db";

    /// <summary>
    /// The embedding model of the index (see <see cref="EmbedderCatalog.Known"/>). Unset: the model the index was built
    /// with, or the default for a new index. Another model than the index's is refused at open, naming both.
    /// </summary>
    public string? EmbeddingModel { get; set; }

    /// <summary>The file caching passage embeddings by (model, text hash); default <c>embedding-cache.db</c> beside the database.</summary>
    public string? EmbeddingCachePath { get; set; }

    /// <summary>Budgets, limits and retrieval-query forming of sessions; <see cref="SessionStoreOptions.MaxBudget"/> also bounds stateless compiles.</summary>
    public SessionStoreOptions Sessions { get; set; } = new();

    /// <summary>What each tenant's documents may take: document size, documents, bytes and corpora per tenant.</summary>
    public CorpusLimits Corpora { get; set; } = new();

    /// <summary>Which store holds the index and the sessions (configuration section <c>ContextCompiler:Storage</c>).</summary>
    public StorageOptions Storage { get; set; } = new();

    /// <summary>The chat model that writes compaction summaries (section <c>ContextCompiler:Summarizer</c>); without one, summaries are extractive.</summary>
    public SummarizerOptions Summarizer { get; set; } = new();

    /// <summary>The embedding cache file these options name.</summary>
    public string ResolvedEmbeddingCachePath() =>
        EmbeddingCachePath ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(DatabasePath)) ?? ".", "embedding-cache.db");
}

/// <summary>
/// Which store the engine runs on, chosen once for the server, every CLI command and the MCP endpoint:
/// <c>ContextCompiler:Storage:Provider</c> and <c>ContextCompiler:Storage:ConnectionString</c>
/// (<c>ContextCompiler__Storage__Provider</c> and <c>ContextCompiler__Storage__ConnectionString</c> in the environment).
/// </summary>
public sealed class StorageOptions
{
    /// <summary><c>sqlite</c> (the default: a file) or <c>postgres</c>.</summary>
    public string Provider { get; set; } = Stores.StoreProviders.Sqlite;

    /// <summary>
    /// The store's connection string. For SQLite a file path or <c>Data Source=FILE</c>; unset, <see cref="ContextCompilerOptions.DatabasePath"/>.
    /// For PostgreSQL an Npgsql connection string.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// How long a replica may take to embed the spans it claimed before another replica may claim them (a store shared by
    /// several replicas; default 10 minutes). A replica killed mid-batch leaves its spans unembedded this long.
    /// </summary>
    public TimeSpan VectorClaimLease { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>
/// The chat model of compaction summaries: an OpenAI-compatible endpoint, as <c>contextc chat</c> takes. The host builds
/// the <see cref="IChatClient"/> and registers it under <see cref="ContextCompilerServiceCollectionExtensions.SummarizerKey"/>;
/// the engine only uses it.
/// </summary>
public sealed class SummarizerOptions
{
    /// <summary>The API base URL, such as https://api.openai.com/v1 or http://localhost:11434/v1; unset for extractive summaries.</summary>
    public string? Endpoint { get; set; }

    /// <summary>The chat model, such as gpt-4o-mini.</summary>
    public string? Model { get; set; }

    /// <summary>The environment variable holding the model's API key (default OPENAI_API_KEY).</summary>
    public string ApiKeyVariable { get; set; } = "OPENAI_API_KEY";

    /// <summary>How long a summary may take before the extractive one is used instead (default 60 s).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>The one composition root of the engine, used by the server, the CLI and the evaluation runner alike.</summary>
public static class ContextCompilerServiceCollectionExtensions
{
    /// <summary>The service key of the <see cref="IChatClient"/> that writes compaction summaries, when the host registers one.</summary>
    public const string SummarizerKey = "ContextCompiler.Summarizer";

    /// <summary>Registers the engine over fixed <paramref name="options"/>.</summary>
    public static IServiceCollection AddContextCompiler(this IServiceCollection services, ContextCompilerOptions options) =>
        services.AddContextCompiler(_ => options);

    /// <summary>
    /// Registers the offline assets, the embedding models, the index, the tokenizer, the compiler, the vector indexer and
    /// the sessions (repository, budgets, turns, recompiles). <paramref name="options"/> is read once, when the first of
    /// them is needed. Assets, the embedder catalog and the clock already registered are kept, so a caller can share them.
    /// </summary>
    public static IServiceCollection AddContextCompiler(this IServiceCollection services, Func<IServiceProvider, ContextCompilerOptions> options)
    {
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(_ => OfflineAssets.Default);
        services.TryAddSingleton(sp => new EmbedderCatalog(sp.GetRequiredService<OfflineAssets>(), Options(sp).ResolvedEmbeddingCachePath()));

        // The store: the one place the provider is chosen, when the engine is first used.
        services.AddSingleton(sp => StoreProviders.Resolve(Options(sp).Storage.Provider).Open(sp, Options(sp)));
        services.AddSingleton(sp => sp.GetRequiredService<IStore>().SpanIndex);
        services.AddSingleton(sp => sp.GetRequiredService<IStore>().Status);
        services.AddSingleton(sp => sp.GetRequiredService<IStore>().Sessions);
        services.AddSingleton(sp => sp.GetRequiredService<IStore>().IdempotencyKeys);
        services.AddSingleton(sp => sp.GetRequiredService<IStore>().Corpora);
        services.AddSingleton(sp => sp.GetRequiredService<IStore>().Documents);
        services.AddSingleton(sp => sp.GetRequiredService<IStore>().Retrieval);

        services.AddSingleton(sp => sp.GetRequiredService<EmbedderCatalog>().For(sp.GetRequiredService<ISpanIndex>().Model.Id));
        services.AddSingleton<ITokenizer>(sp => sp.GetRequiredService<OfflineAssets>().Tokenizer());
        services.AddSingleton(sp => sp.GetRequiredService<RetrievalSources>().Compiler(sp.GetRequiredService<IndexEmbedder>().Queries, sp.GetRequiredService<OfflineAssets>()));
        services.AddSingleton(sp => new VectorIndexer(sp.GetRequiredService<ISpanIndex>(), sp.GetRequiredService<IndexEmbedder>().Passages));

        services.AddSingleton(sp => Options(sp).Sessions);
        services.AddSingleton<SessionLocks>();
        services.AddSingleton<BudgetResolver>();
        services.AddSingleton<RetrievalQueryBuilder>();
        services.AddSingleton(sp => new ContextVectorWarmer(() => sp.GetRequiredService<IndexEmbedder>().Queries));
        services.AddSingleton(sp => sp.GetRequiredService<IStore>().Compactions);
        services.TryAddSingleton(Summarizer);
        services.AddSingleton<SessionCompactor>();
        services.AddSingleton<SessionStore>();
        services.AddSingleton<TurnService>();
        services.AddSingleton<SessionRecompiler>();
        return services;
    }

    private static ContextCompilerOptions Options(IServiceProvider services) => services.GetRequiredService<ContextCompilerOptions>();

    // The model's summaries with the extractive one as fallback when the host registered a chat model; extractive otherwise.
    private static IConversationSummarizer Summarizer(IServiceProvider services)
    {
        var extractive = new ExtractiveSummarizer();
        if (services.GetKeyedService<IChatClient>(SummarizerKey) is not { } client)
        {
            return extractive;
        }

        var options = Options(services).Summarizer;
        return new FallbackSummarizer(new ChatClientSummarizer(client, options.Model), extractive, options.Timeout,
            services.GetService<ILoggerFactory>()?.CreateLogger<FallbackSummarizer>());
    }
}
