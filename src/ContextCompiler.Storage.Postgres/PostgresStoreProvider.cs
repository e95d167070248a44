using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Tokenization;
using ContextCompiler.Storage.Corpora;
using ContextCompiler.Storage.Embedding;
using ContextCompiler.Storage.Index;
using ContextCompiler.Storage.Sessions;
using ContextCompiler.Storage.Stores;
using Microsoft.Extensions.DependencyInjection;

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
        IdempotencyKeys = new PostgresIdempotencyKeys(database, clock);
        var corpora = new PostgresCorpusStore(database, limits, clock);
        Corpora = corpora;
        Documents = new PostgresDocumentStore(database, corpora, tokenizer, clock);
        KeyRing = new PostgresKeyRing(database, clock);
        Retrieval = new RetrievalSources(
            [new PostgresLexicalRetriever(database)],
            new PostgresVectorRetriever(database),
            new PostgresSpanCatalog(database),
            () =>
            {
                var vectors = _index.VectorStatus();
                return new IndexIdentity(model.Id, $"postgres schema {_index.SchemaVersion()}", new VectorCoverage(vectors.Total, vectors.Done));
            });
    }

    /// <inheritdoc />
    public ISpanIndex SpanIndex => _index;

    /// <inheritdoc />
    public IStoreStatus Status => _index;

    /// <inheritdoc />
    public ISessionRepository Sessions { get; }

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
