using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Tokenization;
using ContextCompiler.Engine;
using ContextCompiler.Engine.Corpora;
using ContextCompiler.Engine.Embedding;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Sessions;
using ContextCompiler.Engine.Stores;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace ContextCompiler.Storage.Postgres;

/// <summary>
/// <c>ContextCompiler:Storage:Provider = postgres</c>: one PostgreSQL database (with pgvector and pg_textsearch) shared by
/// every replica, named by <c>ContextCompiler:Storage:ConnectionString</c> (an Npgsql connection string).
/// </summary>
public sealed class PostgresStoreProvider : IStoreProvider
{
    /// <inheritdoc />
    public string Name => "postgres";

    /// <inheritdoc />
    /// <exception cref="ArgumentException">No connection string, or a model whose vectors the schema cannot hold.</exception>
    public IStore Open(IServiceProvider services, ContextCompilerOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Storage.ConnectionString))
        {
            throw new ArgumentException("The postgres store needs ContextCompiler:Storage:ConnectionString (an Npgsql connection string, e.g. Host=db;Database=contextc;Username=app).");
        }

        var model = services.GetRequiredService<EmbedderCatalog>().Describe(options.EmbeddingModel ?? EmbedderCatalog.DefaultModel);
        if (model.Dimensions != PostgresSpanIndex.Dimensions)
        {
            throw new ArgumentException($"The postgres store holds {PostgresSpanIndex.Dimensions}-dimension vectors; the embedding model '{model.Id}' has {model.Dimensions}.");
        }

        var database = new PostgresDatabase(options.Storage.ConnectionString);
        try
        {
            // Once per process, when the engine is first used (the server's start-up, a CLI command); replicas starting
            // together take turns under the migration lock. Open is synchronous because the container's factories are,
            // and nothing here runs on a synchronisation context.
            database.MigrateAsync().GetAwaiter().GetResult();
            return new PostgresStore(
                database, model, options.Corpora, services.GetRequiredService<ITokenizer>(), services.GetRequiredService<TimeProvider>(), options.Storage.VectorClaimLease);
        }
        catch
        {
            database.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }
    /// <inheritdoc />
    /// <remarks>
    /// A schema of its own (<c>contextc_eval_…</c>) in the database the options name, first on the search path, so the
    /// store's tables, indexes and migrations land there while the extensions stay in <c>public</c>; dropped on dispose.
    /// </remarks>
    public ITemporaryStore CreateTemporary(ContextCompilerOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Storage.ConnectionString))
        {
            throw new ArgumentException("The postgres store needs ContextCompiler:Storage:ConnectionString (an Npgsql connection string, e.g. Host=db;Database=contextc;Username=app).");
        }

        return TemporarySchema.Create(options.Storage);
    }

    /// <summary>A schema that holds one temporary store and is dropped with everything in it.</summary>
    private sealed class TemporarySchema : ITemporaryStore
    {
        private readonly string _baseConnectionString;
        private readonly string _schema;

        private TemporarySchema(string baseConnectionString, string schema, StorageOptions storage) =>
            (_baseConnectionString, _schema, Storage) = (baseConnectionString, schema, storage);

        public StorageOptions Storage { get; }

        public static TemporarySchema Create(StorageOptions storage)
        {
            string schema = "contextc_eval_" + Guid.NewGuid().ToString("N");
            string baseConnectionString = storage.ConnectionString!;
            using (var connection = new NpgsqlConnection(baseConnectionString))
            {
                connection.Open();
                // The extensions first, where the search path puts them (public): created by the temporary schema's first
                // migration, they would belong to it and go when it is dropped.
                using var command = new NpgsqlCommand(
                    $"CREATE EXTENSION IF NOT EXISTS vector; CREATE EXTENSION IF NOT EXISTS pg_textsearch; CREATE SCHEMA {schema}", connection);
                command.ExecuteNonQuery();
            }

            var builder = new NpgsqlConnectionStringBuilder(baseConnectionString) { SearchPath = $"{schema},public" };
            return new TemporarySchema(baseConnectionString, schema, new StorageOptions
            {
                Provider = storage.Provider,
                ConnectionString = builder.ConnectionString,
                VectorClaimLease = storage.VectorClaimLease,
            });
        }

        public void Dispose()
        {
            NpgsqlConnection.ClearAllPools();
            try
            {
                using var connection = new NpgsqlConnection(_baseConnectionString);
                connection.Open();
                using var command = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {_schema} CASCADE", connection);
                command.ExecuteNonQuery();
            }
            catch (NpgsqlException)
            {
                // A schema left behind is harmless to the service (nothing reads it); the evaluation's report is what matters.
            }
        }
    }
}

/// <summary>
/// The PostgreSQL store: every seam over one database, with nothing kept in memory for retrieval (the retrievers query
/// the database), so every replica sees every write as soon as it commits.
/// </summary>
public sealed class PostgresStore : IStore
{
    private readonly PostgresDatabase _database;
    private readonly PostgresSpanIndex _index;

    internal PostgresStore(PostgresDatabase database, EmbeddingModel model, CorpusLimits limits, ITokenizer tokenizer, TimeProvider clock, TimeSpan vectorClaimLease)
    {
        _database = database;
        _index = new PostgresSpanIndex(database, model, clock, vectorClaimLease);
        Sessions = new PostgresSessionRepository(database, clock);
        Compactions = new PostgresCompactionRepository(database);
        IdempotencyKeys = new PostgresIdempotencyKeys(database, clock);
        var corpora = new PostgresCorpusStore(database, limits, clock);
        Corpora = corpora;
        Documents = new PostgresDocumentStore(database, corpora, tokenizer, clock);
        KeyRing = new PostgresKeyRing(database, clock);
        Retrieval = new RetrievalSources(
            [new PostgresLexicalRetriever(database)],
            new PostgresVectorRetriever(database),
            new PostgresSpanCatalog(database),
            new IndexIdentityCache(database, clock, () =>
            {
                var vectors = _index.VectorStatus();
                return new IndexIdentity(model.Id, $"postgres schema {_index.SchemaVersion()}", new VectorCoverage(vectors.Total, vectors.Done));
            }).Current);
    }

    /// <inheritdoc />
    public ISpanIndex SpanIndex => _index;

    /// <inheritdoc />
    public IStoreStatus Status => _index;

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
    /// <remarks>Nothing to load: retrieval reads the database.</remarks>
    public bool TextIndexLoaded => true;

    /// <inheritdoc />
    public void LoadTextIndex()
    {
    }

    /// <inheritdoc />
    /// <remarks>
    /// A session-level advisory lock on a connection held for the work, so replicas exclude each other whichever of them
    /// runs it. (On PGlite, whose connections share one session, the lock is re-entrant; its one-query-at-a-time queue and
    /// the work's own re-check keep it correct there.)
    /// </remarks>
    public async Task ExclusiveAsync(string name, Func<Task> work, CancellationToken cancellationToken)
    {
        await using var connection = await _database.DataSource.OpenConnectionAsync(cancellationToken);
        await using (var take = new Npgsql.NpgsqlCommand("SELECT pg_advisory_lock(hashtext($1)::bigint)", connection))
        {
            take.Parameters.AddWithValue("contextcompiler:" + name);
            await take.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            await work();
        }
        finally
        {
            await using var release = new Npgsql.NpgsqlCommand("SELECT pg_advisory_unlock(hashtext($1)::bigint)", connection);
            release.Parameters.AddWithValue("contextcompiler:" + name);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _database.DisposeAsync().AsTask().GetAwaiter().GetResult();
}
