using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Tokenization;
using ContextCompiler.Storage.Assets;
using ContextCompiler.Storage.Corpora;
using ContextCompiler.Storage.Embedding;
using ContextCompiler.Storage.Index;
using ContextCompiler.Storage.Retrieve;
using ContextCompiler.Storage.Sessions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ContextCompiler.Storage;

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

    /// <summary>The embedding cache file these options name.</summary>
    public string ResolvedEmbeddingCachePath() =>
        EmbeddingCachePath ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(DatabasePath)) ?? ".", "embedding-cache.db");
}

/// <summary>The one composition root of the engine, used by the server, the CLI and the evaluation runner alike.</summary>
public static class ContextCompilerServiceCollectionExtensions
{
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
        services.AddSingleton(sp => sp.GetRequiredService<EmbedderCatalog>().Open(Options(sp).DatabasePath, Options(sp).EmbeddingModel, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => sp.GetRequiredService<EmbedderCatalog>().For(sp.GetRequiredService<IndexStore>().Model.Id));
        services.AddSingleton<ITokenizer>(sp => sp.GetRequiredService<OfflineAssets>().Tokenizer());
        services.AddSingleton(sp => new IndexSnapshotCache(sp.GetRequiredService<IndexStore>()));
        services.AddSingleton<WorkingSetCompiler>(sp => CompilerFactory.Create(
            sp.GetRequiredService<IndexStore>(), sp.GetRequiredService<IndexEmbedder>().Queries, sp.GetRequiredService<OfflineAssets>(),
            snapshots: sp.GetRequiredService<IndexSnapshotCache>()));
        services.AddSingleton<ISpanIndex>(sp => sp.GetRequiredService<IndexStore>());
        services.AddSingleton<IStoreStatus>(sp => sp.GetRequiredService<IndexStore>());
        services.AddSingleton(sp => new VectorIndexer(sp.GetRequiredService<ISpanIndex>(), sp.GetRequiredService<IndexEmbedder>().Passages));

        services.AddSingleton(sp => Options(sp).Sessions);
        services.AddSingleton(sp => new IdempotencyKeys(sp.GetRequiredService<IndexStore>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IIdempotencyKeyStore>(sp => sp.GetRequiredService<IdempotencyKeys>());
        services.AddSingleton<ISessionRepository>(sp => new SessionRepository(
            sp.GetRequiredService<IndexStore>(), sp.GetRequiredService<IdempotencyKeys>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<SessionLocks>();
        services.AddSingleton<BudgetResolver>();
        services.AddSingleton<RetrievalQueryBuilder>();
        services.AddSingleton<SessionStore>();
        services.AddSingleton<TurnService>();
        services.AddSingleton<SessionRecompiler>();
        services.AddSingleton(sp => new CorpusStore(
            sp.GetRequiredService<IndexStore>(), Options(sp).Corpora, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IndexSnapshotCache>()));
        services.AddSingleton<DocumentStore>();
        services.AddSingleton<ICorpusStore>(sp => sp.GetRequiredService<CorpusStore>());
        services.AddSingleton<IDocumentStore>(sp => sp.GetRequiredService<DocumentStore>());
        return services;
    }

    private static ContextCompilerOptions Options(IServiceProvider services) => services.GetRequiredService<ContextCompilerOptions>();
}
