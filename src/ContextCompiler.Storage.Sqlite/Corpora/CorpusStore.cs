using System.Globalization;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Sessions;
using Microsoft.Data.Sqlite;
using ContextCompiler.Engine.Corpora;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>
/// Corpora and who may read them. A tenant reads its own corpora and the shared ones, and writes only its own. An
/// operator's corpora (ingested with <c>contextc ingest</c> or at start) belong to no tenant and are shared unless
/// the operator says otherwise. Another tenant's corpus is reported as not found, never as forbidden.
/// </summary>
public sealed class CorpusStore(IndexStore store, CorpusLimits limits, TimeProvider? clock = null, IndexSnapshotCache? snapshots = null) : ICorpusStore
{
    // The index's own clock unless another is given, so that corpora and the artifacts in them are stamped alike.
    private readonly TimeProvider _clock = clock ?? store.Clock;

    /// <inheritdoc />
    public CorpusLimits Limits => limits;

    /// <summary>The corpus key of a tenant's corpus <paramref name="name"/>.</summary>
    public static string KeyOf(string tenant, string name) => tenant + "/" + name;

    /// <inheritdoc />
    public CorpusInfo Create(string tenant, string name)
    {
        CorpusNames.Validate(name);
        using var lease = store.Rent();
        using var transaction = lease.Connection.BeginTransaction(deferred: false);
        if (Find(lease.Connection, transaction, tenant, name) is not null)
        {
            throw new CorpusConflictException($"A corpus named '{name}' exists already.");
        }

        long owned = Scalar(lease.Connection, transaction, "SELECT COUNT(*) FROM corpora WHERE tenant = $tenant", ("$tenant", tenant));
        if (owned >= limits.MaxCorporaPerTenant)
        {
            throw new QuotaExceededException($"The tenant owns {owned} corpora, the most allowed ({limits.MaxCorporaPerTenant}); delete one first.");
        }

        var now = _clock.GetUtcNow();
        Execute(lease.Connection, transaction, "INSERT INTO corpora (key, name, tenant, shared, created_at) VALUES ($key, $name, $tenant, 0, $now)",
            ("$key", KeyOf(tenant, name)), ("$name", name), ("$tenant", tenant), ("$now", Timestamps.Format(now)));
        transaction.Commit();
        return new CorpusInfo(name, KeyOf(tenant, name), true, false, now, 0, 0);
    }

    /// <inheritdoc />
    public IReadOnlyList<CorpusInfo> List(string tenant)
    {
        using var lease = store.Rent();
        using var select = Sql.Command(lease.Connection, null, """
            SELECT c.key, c.name, c.tenant, c.shared, c.created_at, COUNT(a.id), COALESCE(SUM(a.bytes), 0)
            FROM corpora c LEFT JOIN artifacts a ON a.corpus = c.key
            WHERE c.tenant = $tenant OR c.shared = 1
            GROUP BY c.key
            ORDER BY c.tenant IS NULL OR c.tenant <> $tenant, c.name, c.key
            """, ("$tenant", tenant));
        var corpora = new List<CorpusInfo>();
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            bool owned = !reader.IsDBNull(2) && reader.GetString(2) == tenant;
            corpora.Add(new CorpusInfo(reader.GetString(1), reader.GetString(0), owned, reader.GetInt64(3) != 0,
                Timestamps.Parse(reader.GetString(4)), reader.GetInt32(5), reader.GetInt64(6)));
        }

        return corpora;
    }

    /// <inheritdoc />
    public IReadOnlyList<CorpusEntry> All()
    {
        using var lease = store.Rent();
        using var select = Sql.Command(lease.Connection, null, """
            SELECT c.key, c.name, c.tenant, c.shared, c.created_at, COUNT(a.id), COALESCE(SUM(a.bytes), 0)
            FROM corpora c LEFT JOIN artifacts a ON a.corpus = c.key
            GROUP BY c.key
            ORDER BY c.key
            """);
        var corpora = new List<CorpusEntry>();
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            corpora.Add(new CorpusEntry(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetInt64(3) != 0,
                Timestamps.Parse(reader.GetString(4)), reader.GetInt32(5), reader.GetInt64(6)));
        }

        return corpora;
    }

    /// <inheritdoc />
    public void Delete(string tenant, string name)
    {
        using var lease = store.Rent();
        using var transaction = lease.Connection.BeginTransaction(deferred: false);
        string key = Owned(lease.Connection, transaction, tenant, name);
        // Deleting an artifact cascades to its spans; triggers clear the FTS and vector rows.
        int removed = Execute(lease.Connection, transaction, "DELETE FROM artifacts WHERE corpus = $key", ("$key", key));
        Execute(lease.Connection, transaction, "DELETE FROM corpora WHERE key = $key", ("$key", key));
        if (removed > 0)
        {
            IndexStore.BumpGeneration(lease.Connection, transaction, spansChanged: true);
        }

        transaction.Commit();
        // Its documents must be gone from the next compile, whoever asks.
        snapshots?.Refresh();
    }

    /// <inheritdoc />
    public string ReadableKey(string tenant, string name)
    {
        using var lease = store.Rent();
        return Find(lease.Connection, null, tenant, name)?.Key ?? throw new CorpusNotFoundException(name);
    }

    /// <inheritdoc />
    public string OwnedKey(string tenant, string name)
    {
        using var lease = store.Rent();
        return Owned(lease.Connection, null, tenant, name);
    }

    /// <inheritdoc />
    public IReadOnlySet<string> Readable(string tenant)
    {
        using var lease = store.Rent();
        using var select = Sql.Command(lease.Connection, null, "SELECT key FROM corpora WHERE tenant = $tenant OR shared = 1", ("$tenant", tenant));
        var keys = new HashSet<string>(StringComparer.Ordinal);
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    /// <inheritdoc />
    public void SetShared(string key, bool shared)
    {
        using var lease = store.Rent();
        if (Execute(lease.Connection, null, "UPDATE corpora SET shared = $shared WHERE key = $key", ("$shared", shared ? 1 : 0), ("$key", key)) == 0)
        {
            throw new CorpusNotFoundException(key);
        }
    }

    /// <summary>
    /// Makes sure the operator's corpus <paramref name="key"/> is registered (shared, as operator corpora were before they
    /// were a resource). Called by ingestion inside its transaction, with the time it stamps a new corpus with; a tenant's
    /// key (with a '/') must exist already.
    /// </summary>
    internal static void EnsureOperatorCorpus(SqliteConnection connection, SqliteTransaction transaction, string key, DateTimeOffset now)
    {
        if (key.Contains('/'))
        {
            if (Scalar(connection, transaction, "SELECT COUNT(*) FROM corpora WHERE key = $key", ("$key", key)) == 0)
            {
                throw new CorpusNotFoundException(key);
            }

            return;
        }

        Execute(connection, transaction, "INSERT OR IGNORE INTO corpora (key, name, tenant, shared, created_at) VALUES ($key, $key, NULL, 1, $now)",
            ("$key", key), ("$now", Timestamps.Format(now)));
    }

    // The tenant's own corpus of that name, else a shared corpus of that name (the operator's before another tenant's).
    private static (string Key, bool Owned)? Find(SqliteConnection connection, SqliteTransaction? transaction, string tenant, string name)
    {
        using var select = Sql.Command(connection, transaction, """
            SELECT key, tenant = $tenant FROM corpora
            WHERE name = $name AND (tenant = $tenant OR shared = 1)
            ORDER BY tenant = $tenant DESC, tenant IS NOT NULL, key LIMIT 1
            """, ("$tenant", tenant), ("$name", name));
        using var reader = select.ExecuteReader();
        return reader.Read() ? (reader.GetString(0), !reader.IsDBNull(1) && reader.GetInt64(1) == 1) : null;
    }

    private static string Owned(SqliteConnection connection, SqliteTransaction? transaction, string tenant, string name) =>
        Find(connection, transaction, tenant, name) is { Owned: true } found ? found.Key : throw new CorpusNotFoundException(name);

    private static long Scalar(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string, object?)[] parameters)
    {
        using var command = Sql.Command(connection, transaction, sql, parameters);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static int Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string, object?)[] parameters)
    {
        using var command = Sql.Command(connection, transaction, sql, parameters);
        return command.ExecuteNonQuery();
    }
}
