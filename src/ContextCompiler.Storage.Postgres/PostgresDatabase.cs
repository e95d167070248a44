using System.Reflection;
using Npgsql;
using Pgvector.Npgsql;

namespace ContextCompiler.Storage.Postgres;

/// <summary>
/// One PostgreSQL database shared by every replica of the service: the <see cref="NpgsqlDataSource"/> (with pgvector's
/// types) that the store's queries run on, and the schema's migrations.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    /// <summary>
    /// The key of the session-level advisory lock that <see cref="MigrateAsync"/> holds, so replicas that start together
    /// apply each migration once. Fixed, and distinct from any other lock the store takes ("ctxc" "0017" in ASCII hex).
    /// </summary>
    public const long MigrationLockKey = 0x6374786330303137;

    private const string ResourcePrefix = "Migrations/";

    /// <summary>Opens nothing yet: connections are made on first use, from <paramref name="connectionString"/>.</summary>
    public PostgresDatabase(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.UseVector();
        if (builder.ConnectionStringBuilder.SearchPath is { Length: > 0 } searchPath)
        {
            // Search Path travels as a start-up parameter, which a proxy or PGlite may drop; setting it on each new
            // connection holds everywhere (a temporary evaluation schema relies on it). The reset Npgsql sends when a
            // connection goes back to the pool (DISCARD ALL) would undo the setting where the start-up parameter was
            // dropped, so pooled connections keep their state instead: the store leaves none behind (its settings are
            // SET LOCAL, its advisory locks are released).
            builder.ConnectionStringBuilder.NoResetOnClose = true;
            builder.UsePhysicalConnectionInitializer(
                connection => SetSearchPath(connection, searchPath).GetAwaiter().GetResult(),
                connection => SetSearchPath(connection, searchPath));
        }

        DataSource = builder.Build();
    }

    /// <summary>Spans this process writes, at the least, before it refreshes the span table's planner statistics.</summary>
    public const int AnalyzeAfterSpans = 1000;

    private long _spanWrites;
    private long _spansSinceAnalyze;
    private long _spansAtAnalyze;
    private int _analyzing;

    /// <summary>How many span writes (ingest batches, uploads, deletions, vectors) this process has committed here.</summary>
    public long SpanWrites => Interlocked.Read(ref _spanWrites);

    /// <summary>
    /// Notes a committed change to spans or their vectors, so that what this replica caches about them is read again;
    /// <paramref name="spansWritten"/> new spans count towards the next <c>ANALYZE spans</c>.
    /// </summary>
    /// <remarks>
    /// Without statistics the planner takes a new corpus for a handful of rows and scores all of them by BM25 and sorts,
    /// instead of reading the bm25 index in score order: 1.45 s instead of 10 ms for 9,181 spans on PGlite. Autovacuum
    /// would analyze eventually on a server (never on PGlite); a bulk load (the first ingest, an evaluation, a copy) needs
    /// it at once. So after <see cref="AnalyzeAfterSpans"/> new spans, or a fifth of the table as last analyzed if that is
    /// more, the writer that crosses the line analyzes the table; its share lock does not block reads or writes.
    /// </remarks>
    public void SpansChanged(int spansWritten = 0)
    {
        Interlocked.Increment(ref _spanWrites);
        if (spansWritten <= 0)
        {
            return;
        }

        long pending = Interlocked.Add(ref _spansSinceAnalyze, spansWritten);
        if (pending < Math.Max(AnalyzeAfterSpans, Interlocked.Read(ref _spansAtAnalyze) / 5) || Interlocked.Exchange(ref _analyzing, 1) == 1)
        {
            return;
        }

        try
        {
            Interlocked.Add(ref _spansSinceAnalyze, -pending);
            using var connection = DataSource.OpenConnection();
            using (var analyze = new NpgsqlCommand("ANALYZE spans", connection))
            {
                analyze.ExecuteNonQuery();
            }

            using var rows = new NpgsqlCommand("SELECT reltuples::bigint FROM pg_class WHERE oid = 'spans'::regclass", connection);
            Interlocked.Exchange(ref _spansAtAnalyze, Math.Max(0, Convert.ToInt64(rows.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture)));
        }
        catch (NpgsqlException)
        {
            // The write this follows has committed; statistics are an optimisation, so the next writer tries again.
            Interlocked.Add(ref _spansSinceAnalyze, pending);
        }
        finally
        {
            Volatile.Write(ref _analyzing, 0);
        }
    }

    /// <summary>The pool every query of the store runs on.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>The schema's migrations in the order they apply, read from the SQL files embedded in this assembly.</summary>
    public static IReadOnlyList<Migration> Migrations { get; } = LoadMigrations();

    /// <summary>
    /// Applies every migration not yet recorded in <c>schema_migrations</c>, in order, each in its own transaction, and
    /// returns the versions this call applied (none when another replica already had). Safe to call from several
    /// replicas at once: all of it runs under the advisory lock <see cref="MigrationLockKey"/>.
    /// </summary>
    public async Task<IReadOnlyList<int>> MigrateAsync(CancellationToken cancellationToken = default)
    {
        var applied = new List<int>();
        await using (var connection = await DataSource.OpenConnectionAsync(cancellationToken))
        {
            // Session-level, not transaction-level: it must span the table's creation and every migration's transaction.
            await ExecuteAsync(connection, null, "SELECT pg_advisory_lock($1)", cancellationToken, MigrationLockKey);
            try
            {
                await ExecuteAsync(connection, null, """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version    integer     PRIMARY KEY,
                        name       text        NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now()
                    )
                    """, cancellationToken);
                foreach (var migration in Migrations)
                {
                    if (await ApplyAsync(connection, migration, cancellationToken))
                    {
                        applied.Add(migration.Version);
                    }
                }
            }
            finally
            {
                // Not cancellable: a lock left behind on a pooled connection would hold every other replica's start.
                await ExecuteAsync(connection, null, "SELECT pg_advisory_unlock($1)", CancellationToken.None, MigrationLockKey);
            }
        }

        // The data source read the database's types when it first connected, possibly before migration 1 created the
        // vector extension (here or in another replica); without a reload it could not send or read vector values.
        await DataSource.ReloadTypesAsync(cancellationToken);
        return applied;
    }

    /// <summary>The versions recorded in <c>schema_migrations</c>, in order, each as often as it is recorded.</summary>
    public async Task<IReadOnlyList<int>> AppliedVersionsAsync(CancellationToken cancellationToken = default)
    {
        await using var command = DataSource.CreateCommand("SELECT version FROM schema_migrations ORDER BY version");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var versions = new List<int>();
        while (await reader.ReadAsync(cancellationToken))
        {
            versions.Add(reader.GetInt32(0));
        }

        return versions;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => DataSource.DisposeAsync();

    private static async Task SetSearchPath(NpgsqlConnection connection, string searchPath)
    {
        await using var command = new NpgsqlCommand("SELECT set_config('search_path', $1, false)", connection);
        command.Parameters.AddWithValue(searchPath);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<bool> ApplyAsync(NpgsqlConnection connection, Migration migration, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Checked inside the migration's own transaction rather than once up front. On PostgreSQL the advisory lock
        // already excludes other replicas; PGlite's socket server multiplexes every connection onto one backend
        // session, where the lock is re-entrant and excludes nobody, but it does run one transaction at a time, so
        // this check is what keeps a racing second caller from applying a migration twice there.
        await using (var check = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)", connection, transaction))
        {
            check.Parameters.Add(new NpgsqlParameter { Value = migration.Version });
            if ((bool)(await check.ExecuteScalarAsync(cancellationToken))!)
            {
                await transaction.RollbackAsync(cancellationToken);
                return false;
            }
        }

        await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken);
        await ExecuteAsync(connection, transaction, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            cancellationToken, migration.Version, migration.Name);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql,
        CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static List<Migration> LoadMigrations()
    {
        var assembly = typeof(PostgresDatabase).Assembly;
        var migrations = new List<Migration>();
        foreach (string resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            string name = Path.GetFileNameWithoutExtension(resource[ResourcePrefix.Length..]);
            int underscore = name.IndexOf('_', StringComparison.Ordinal);
            if (underscore <= 0 || !int.TryParse(name[..underscore], out int version) || version <= 0)
            {
                throw new InvalidOperationException($"Migration resource {resource} is not named NNNN_name.sql.");
            }

            migrations.Add(new Migration(version, name, Read(assembly, resource)));
        }

        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (int i = 0; i < migrations.Count; i++)
        {
            // Numbered 1, 2, 3 … without gaps or repeats: a missing file must not be skipped silently.
            if (migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException($"Migrations must be numbered 1 to {migrations.Count} without gaps; found {migrations[i].Name}.");
            }
        }

        return migrations;
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

/// <summary>One numbered migration: its version, its file name without extension, and its SQL.</summary>
public sealed record Migration(int Version, string Name, string Sql);
