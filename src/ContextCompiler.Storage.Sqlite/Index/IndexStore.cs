using System.Globalization;
using Microsoft.Data.Sqlite;
using ContextCompiler.Engine.Index;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>
/// A span index in one SQLite file: artifacts, spans, an FTS5 index and a sqlite-vec (vec0) vector table.
/// Opening applies pending migrations and checks the embedding model; every connection it hands out
/// has WAL, foreign keys and sqlite-vec enabled. Disposing closes the pooled connections.
/// </summary>
public sealed partial class IndexStore : IDisposable
{
    private readonly string _connectionString;
    private readonly string _vec0Path;
    private readonly System.Collections.Concurrent.ConcurrentBag<SqliteConnection> _idle = [];
    private volatile bool _disposed;
    private long _generationReads;

    private IndexStore(string path, string vec0Path, EmbeddingModel model, TimeProvider? clock)
    {
        Path = path;
        _vec0Path = vec0Path;
        Model = model;
        Clock = clock ?? TimeProvider.System;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            // Extensions are loaded per connection; a pooled connection would load vec0 twice.
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString();
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>The embedding model of this index.</summary>
    public EmbeddingModel Model { get; }

    /// <summary>The clock that stamps the rows written to this index; the stores over it default to it, so one clock stamps them all.</summary>
    public TimeProvider Clock { get; }

    /// <summary>Opens (creating if needed) the index at <paramref name="path"/> for <paramref name="model"/>.</summary>
    /// <param name="clock">Stamps the rows written (default: the system clock).</param>
    /// <exception cref="EmbeddingModelMismatchException">The file was built with another model.</exception>
    public static IndexStore Open(string path, string vec0Path, EmbeddingModel model, TimeProvider? clock = null)
    {
        var full = System.IO.Path.GetFullPath(path);
        var folder = System.IO.Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        var store = new IndexStore(full, vec0Path, model, clock);
        using var connection = store.OpenConnection();
        store.Migrate(connection);
        store.EnsureModel(connection);
        return store;
    }

    /// <summary>The embedding model recorded in the index at <paramref name="path"/>; null when there is no such file or no model yet.</summary>
    public static EmbeddingModel? StoredModel(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        if (Scalar(connection, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'") is not long and > 0)
        {
            return null;
        }

        var id = MetaValue(connection, null, "embedding_model");
        var dims = MetaValue(connection, null, "embedding_dimensions");
        return id is null ? null : new EmbeddingModel(id, int.Parse(dims ?? "0", CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The schema version of the index at <paramref name="path"/> before opening it, which migrates it: 0 when there is
    /// no such file or it holds no schema yet.
    /// </summary>
    public static int StoredSchemaVersion(string path)
    {
        if (!File.Exists(path))
        {
            return 0;
        }

        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        return Scalar(connection, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'") is long and > 0
            ? Convert.ToInt32(Scalar(connection, "SELECT COALESCE(MAX(version), 0) FROM schema_version"), CultureInfo.InvariantCulture)
            : 0;
    }

    /// <summary>Opens a new connection with the index's pragmas and sqlite-vec loaded. The caller disposes it.</summary>
    public SqliteConnection OpenConnection()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        connection.LoadExtension(_vec0Path);
        Execute(connection, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;");
        return connection;
    }

    /// <summary>Borrows a pooled connection for a short read; disposing the lease returns it.</summary>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    public ConnectionLease Rent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new(_idle.TryTake(out var connection) ? connection : OpenConnection(), this);
    }

    /// <summary>Closes every pooled connection; a connection still lent out is closed when its lease is disposed.</summary>
    public void Dispose()
    {
        _disposed = true;
        Drain();
    }

    // Pooled again, unless the store was disposed meanwhile: then it is closed, and so is anything a racing Dispose missed.
    private void Return(SqliteConnection connection)
    {
        _idle.Add(connection);
        if (_disposed)
        {
            Drain();
        }
    }

    private void Drain()
    {
        while (_idle.TryTake(out var connection))
        {
            connection.Dispose();
        }
    }

    /// <summary>The embedding model and the schema version and write generation, as recorded in manifests.</summary>
    /// <param name="generation">The generation to record, when the caller read the index at a known one; else it is read now.</param>
    public Core.Compile.IndexIdentity Identity(long? generation = null)
    {
        using var lease = Rent();
        long recorded = generation ?? CountedGeneration(lease.Connection);
        return new Core.Compile.IndexIdentity(Model.Id, $"schema {SchemaVersionOf(lease.Connection)}, generation {recorded}");
    }

    /// <summary>The write generation now, read on a pooled connection.</summary>
    public long CurrentGeneration()
    {
        using var lease = Rent();
        return CountedGeneration(lease.Connection);
    }

    /// <summary>How many times this store has been asked for the current generation: lets a test see how often a compile asks.</summary>
    internal long GenerationReads => Interlocked.Read(ref _generationReads);

    private long CountedGeneration(SqliteConnection connection)
    {
        Interlocked.Increment(ref _generationReads);
        return Generation(connection);
    }

    /// <summary>The write generation: it grows with every ingest batch that changed something.</summary>
    public static long Generation(SqliteConnection connection) =>
        long.Parse(MetaValue(connection, null, "index_generation") ?? "0", CultureInfo.InvariantCulture);

    /// <summary>
    /// The text generation: it grows only with writes that change spans (ingest, uploads, deletions), not with vectors
    /// written for existing spans, so an in-memory copy can take new vectors without re-reading the text.
    /// </summary>
    public static long TextGeneration(SqliteConnection connection) =>
        long.Parse(MetaValue(connection, null, "text_generation") ?? "0", CultureInfo.InvariantCulture);

    /// <summary>Records a write in <paramref name="transaction"/>: the generation grows, and the text generation with it when spans changed.</summary>
    public static void BumpGeneration(SqliteConnection connection, SqliteTransaction transaction, bool spansChanged)
    {
        Execute(connection, "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'index_generation'", transaction);
        if (spansChanged)
        {
            Execute(connection,
                "INSERT INTO meta (key, value) VALUES ('text_generation', '1') ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
                transaction);
        }
    }

    private static int SchemaVersionOf(SqliteConnection connection) =>
        Convert.ToInt32(Scalar(connection, "SELECT MAX(version) FROM schema_version"), CultureInfo.InvariantCulture);

    /// <summary>The schema version after migrations.</summary>
    public int SchemaVersion()
    {
        using var lease = Rent();
        return SchemaVersionOf(lease.Connection);
    }

    /// <summary>A borrowed connection; dispose it to give it back.</summary>
    public sealed class ConnectionLease : IDisposable
    {
        private readonly IndexStore _owner;

        internal ConnectionLease(SqliteConnection connection, IndexStore owner)
        {
            Connection = connection;
            _owner = owner;
        }

        /// <summary>The borrowed connection.</summary>
        public SqliteConnection Connection { get; }

        /// <summary>Returns the connection to the pool (or closes it, once the store is disposed).</summary>
        public void Dispose() => _owner.Return(Connection);
    }

    internal static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    internal static object? Scalar(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private void Migrate(SqliteConnection connection)
    {
        Execute(connection, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
        int current = Convert.ToInt32(Scalar(connection, "SELECT COALESCE(MAX(version), 0) FROM schema_version"), CultureInfo.InvariantCulture);
        foreach (var (version, sql) in Migrations.All.Where(m => m.Version > current))
        {
            using var transaction = connection.BeginTransaction();
            Execute(connection, sql, transaction);
            using var record = connection.CreateCommand();
            record.Transaction = transaction;
            record.CommandText = "INSERT INTO schema_version (version, applied_at) VALUES ($v, $t)";
            record.Parameters.AddWithValue("$v", version);
            record.Parameters.AddWithValue("$t", Timestamps.Format(Clock.GetUtcNow()));
            record.ExecuteNonQuery();
            transaction.Commit();
        }
    }

    /// <summary>
    /// Moves the index at <paramref name="path"/> to <paramref name="model"/>: its vectors are dropped (the vec0 table is
    /// re-created at the new width) and the new model is recorded; spans and text stay. Fill the vectors afterwards
    /// with a <see cref="VectorIndexer"/> on the store opened for the new model.
    /// </summary>
    public static IndexStore SwitchModel(string path, string vec0Path, EmbeddingModel model, TimeProvider? clock = null)
    {
        var current = StoredModel(path) ?? throw new InvalidOperationException($"{path} holds no index to move to another model.");
        using (var store = new IndexStore(System.IO.Path.GetFullPath(path), vec0Path, current, clock))
        using (var connection = store.OpenConnection())
        {
            using var transaction = connection.BeginTransaction();
            Execute(connection, "DROP TRIGGER IF EXISTS spans_after_delete; DROP TABLE IF EXISTS span_vectors;", transaction);
            CreateVectorTable(connection, transaction, model);
            BumpGeneration(connection, transaction, spansChanged: true);
            transaction.Commit();
        }

        return Open(path, vec0Path, model, clock);
    }

    // The vec0 table's width depends on the model, so it is created with the model's record rather than in a migration.
    private static void CreateVectorTable(SqliteConnection connection, SqliteTransaction transaction, EmbeddingModel model)
    {
        Execute(connection, $"""
            CREATE VIRTUAL TABLE span_vectors USING vec0(embedding float[{model.Dimensions}]);
            CREATE TRIGGER spans_after_delete AFTER DELETE ON spans BEGIN
                DELETE FROM span_fts WHERE rowid = old.id;
                DELETE FROM span_vectors WHERE rowid = old.id;
            END;
            """, transaction);
        SetMeta(connection, transaction, "embedding_model", model.Id);
        SetMeta(connection, transaction, "embedding_dimensions", model.Dimensions.ToString(CultureInfo.InvariantCulture));
    }

    private void EnsureModel(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction();
        var id = MetaValue(connection, transaction, "embedding_model");
        var dims = MetaValue(connection, transaction, "embedding_dimensions");
        if (id is not null)
        {
            var stored = new EmbeddingModel(id, int.Parse(dims ?? "0", CultureInfo.InvariantCulture));
            if (stored != Model)
            {
                throw new EmbeddingModelMismatchException(stored, Model, Path);
            }

            return;
        }

        CreateVectorTable(connection, transaction, Model);
        SetMeta(connection, transaction, "index_generation", "0");
        transaction.Commit();
    }

    internal static void SetMeta(SqliteConnection connection, SqliteTransaction transaction, string key, string value)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO meta (key, value) VALUES ($key, $value) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$value", value);
        command.ExecuteNonQuery();
    }

    internal static string? MetaValue(SqliteConnection connection, SqliteTransaction? transaction, string key)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT value FROM meta WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        return command.ExecuteScalar() as string;
    }
}
