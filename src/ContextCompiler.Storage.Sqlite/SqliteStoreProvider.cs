using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Tokenization;
using ContextCompiler.Engine.Corpora;
using ContextCompiler.Engine.Embedding;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Sessions;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using ContextCompiler.Engine;
using ContextCompiler.Engine.Stores;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>The embedded default: everything in one SQLite file with FTS5 and sqlite-vec.</summary>
public sealed class SqliteStoreProvider : IStoreProvider
{
    /// <inheritdoc />
    public string Name => StoreProviders.Sqlite;

    /// <inheritdoc />
    public IStore Open(IServiceProvider services, ContextCompilerOptions options)
    {
        var clock = services.GetRequiredService<TimeProvider>();
        var index = services.GetRequiredService<EmbedderCatalog>().Open(PathOf(options), options.EmbeddingModel, clock);
        return new SqliteStore(index, options.Corpora, services.GetRequiredService<ITokenizer>(), clock);
    }

    /// <inheritdoc />
    public ITemporaryStore CreateTemporary(ContextCompilerOptions options) => new TemporaryFile();

    /// <summary>The SQLite file <paramref name="options"/> name: the connection string's data source, else the database path.</summary>
    public static string PathOf(ContextCompilerOptions options)
    {
        string? connectionString = options.Storage.ConnectionString;
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return options.DatabasePath;
        }

        // A bare path is the common case; a connection string names its file as Data Source.
        return connectionString.Contains('=') ? new SqliteConnectionStringBuilder(connectionString).DataSource : connectionString;
    }

    /// <summary>A database file in a new temporary folder, deleted with the folder.</summary>
    private sealed class TemporaryFile : ITemporaryStore
    {
        private readonly string _folder = Directory.CreateTempSubdirectory("contextc-eval-").FullName;

        public StorageOptions Storage => new() { Provider = StoreProviders.Sqlite, ConnectionString = Path.Combine(_folder, "eval.db") };

        public void Dispose()
        {
            // Pooled connections keep the file open; the folder can only go once they are closed.
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(_folder, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temporary folder is harmless; the evaluation's report is what matters.
            }
        }
    }
}

/// <summary>
/// One SQLite file: retrieval from an in-memory copy of the index (<see cref="IndexSnapshotCache"/>) that writers in this
/// process refresh, so one process at a time serves it.
/// </summary>
public sealed class SqliteStore : IStore
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> _exclusive = new(StringComparer.Ordinal);

    internal SqliteStore(IndexStore index, CorpusLimits limits, ITokenizer tokenizer, TimeProvider clock)
    {
        Index = index;
        Snapshots = new IndexSnapshotCache(index);
        var keys = new IdempotencyKeys(index, clock);
        IdempotencyKeys = keys;
        Sessions = new SessionRepository(index, keys, clock);
        Compactions = new CompactionRepository(index);
        var corpora = new CorpusStore(index, limits, clock, Snapshots);
        Corpora = corpora;
        Documents = new DocumentStore(index, corpora, tokenizer, Snapshots);
        Retrieval = RetrievalOf(index, Snapshots);
        KeyRing = new SqliteKeyRing(index, clock);
    }

    /// <summary>The SQLite store the engine in <paramref name="services"/> runs on, for what needs the file itself (export, stats, re-embedding).</summary>
    /// <exception cref="InvalidOperationException">The engine runs on another store.</exception>
    public static SqliteStore Of(IServiceProvider services) =>
        services.GetRequiredService<IStore>() as SqliteStore
        ?? throw new InvalidOperationException(
            $"This needs the SQLite store; the engine runs on '{services.GetRequiredService<ContextCompilerOptions>().Storage.Provider}'.");

    /// <summary>
    /// Retrieval over <paramref name="index"/>: in-memory BM25 (or FTS5) and vectors from <paramref name="snapshots"/>, text
    /// from the file. A compile pins one snapshot, so its retrievers and its manifest's generation agree.
    /// </summary>
    public static RetrievalSources RetrievalOf(IndexStore index, IndexSnapshotCache snapshots) => new(
        [new InMemoryLexicalIndex(snapshots), new Fts5LexicalRetriever(index)],
        new InMemoryVectorIndex(snapshots),
        new SqliteSpanCatalog(index),
        () =>
        {
            var snapshot = snapshots.Current();
            // A snapshot that a write raced (generation -1) cannot say which generation it holds; the file then can.
            return index.Identity(snapshot.Generation >= 0 ? snapshot.Generation : null)
                with { Vectors = new VectorCoverage(snapshot.Keys.Length, snapshot.VectorCount) };
        })
    {
        ReadScope = snapshots.Pin,
    };

    /// <summary>The SQLite file itself, for what only SQLite has (exports, statistics, moving to another model).</summary>
    public IndexStore Index { get; }

    /// <summary>The in-memory copy of the index that retrieval reads.</summary>
    public IndexSnapshotCache Snapshots { get; }

    /// <inheritdoc />
    public ISpanIndex SpanIndex => Index;

    /// <inheritdoc />
    public IStoreStatus Status => Index;

    /// <inheritdoc />
    public ISessionRepository Sessions { get; }

    /// <inheritdoc />
    public Engine.Sessions.Compacting.ICompactionStore Compactions { get; }

    /// <inheritdoc />
    public IIdempotencyKeyStore IdempotencyKeys { get; }

    /// <inheritdoc />
    public ICorpusStore Corpora { get; }

    /// <inheritdoc />
    public IDocumentStore Documents { get; }

    /// <inheritdoc />
    public RetrievalSources Retrieval { get; }

    /// <inheritdoc />
    public IKeyRingStore KeyRing { get; }

    /// <inheritdoc />
    public bool TextIndexLoaded => Snapshots.Loaded is not null;

    /// <inheritdoc />
    public void LoadTextIndex() => Snapshots.Current();

    /// <inheritdoc />
    /// <remarks>
    /// Exclusive within this process. The SQLite store is served by one process at a time; another process (a CLI
    /// command) writes in its own transactions, which SQLite serialises.
    /// </remarks>
    public async Task ExclusiveAsync(string name, Func<Task> work, CancellationToken cancellationToken)
    {
        var gate = _exclusive.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            await work();
        }
        finally
        {
            gate.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose() => Index.Dispose();
}
