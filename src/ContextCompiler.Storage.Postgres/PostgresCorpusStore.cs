using System.Globalization;
using ContextCompiler.Engine.Corpora;
using Npgsql;

namespace ContextCompiler.Storage.Postgres;

/// <summary>
/// The PostgreSQL <see cref="ICorpusStore"/>, with the SQLite store's rules, messages and order. Corpora are rows of
/// (tenant, name); the operator's belong to tenant <c>''</c> and are named by their bare name (<see cref="PostgresCorpusKeys"/>).
/// The corpus limit holds across replicas: creation checks it under the tenant's advisory write lock.
/// </summary>
public sealed class PostgresCorpusStore(PostgresDatabase database, CorpusLimits limits, TimeProvider? clock = null) : ICorpusStore
{
    private const string InfoSql = """
        SELECT c.tenant, c.name, c.shared, c.created_at, count(d.path), COALESCE(sum(d.bytes), 0)
        FROM corpora c LEFT JOIN documents d ON d.tenant = c.tenant AND d.corpus = c.name
        """;

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <inheritdoc />
    public CorpusLimits Limits => limits;

    /// <inheritdoc />
    public CorpusInfo Create(string tenant, string name)
    {
        CheckTenant(tenant);
        CorpusNames.Validate(name);
        using var connection = database.DataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        PgSql.LockTenant(connection, transaction, tenant);
        if (Find(connection, transaction, tenant, name) is not null)
        {
            throw new CorpusConflictException($"A corpus named '{name}' exists already.");
        }

        long owned = Convert.ToInt64(PgSql.Scalar(connection, transaction, "SELECT count(*) FROM corpora WHERE tenant = $1", tenant), CultureInfo.InvariantCulture);
        if (owned >= limits.MaxCorporaPerTenant)
        {
            throw new QuotaExceededException($"The tenant owns {owned} corpora, the most allowed ({limits.MaxCorporaPerTenant}); delete one first.");
        }

        var now = _clock.GetUtcNow();
        PgSql.Execute(connection, transaction, "INSERT INTO corpora (tenant, name, shared, created_at, updated_at) VALUES ($1, $2, false, $3, $3)",
            tenant, name, now);
        transaction.Commit();
        return new CorpusInfo(name, PostgresCorpusKeys.KeyOf(tenant, name), true, false, now, 0, 0);
    }

    /// <inheritdoc />
    public IReadOnlyList<CorpusInfo> List(string tenant)
    {
        CheckTenant(tenant);
        var rows = Read($"{InfoSql} WHERE c.tenant = $1 OR c.shared GROUP BY c.tenant, c.name", tenant);
        // Its own first, then by name and key, compared as SQLite compares (ordinal), not by the database's collation.
        return rows.Select(r => new CorpusInfo(r.Name, r.Key, r.Tenant == tenant, r.Shared, r.CreatedAt, r.Documents, r.Bytes))
            .OrderBy(c => !c.Owned).ThenBy(c => c.Name, StringComparer.Ordinal).ThenBy(c => c.Key, StringComparer.Ordinal).ToList();
    }

    /// <inheritdoc />
    public IReadOnlyList<CorpusEntry> All() =>
        Read($"{InfoSql} GROUP BY c.tenant, c.name")
            .Select(r => new CorpusEntry(r.Key, r.Name, r.Tenant.Length == 0 ? null : r.Tenant, r.Shared, r.CreatedAt, r.Documents, r.Bytes))
            .OrderBy(c => c.Key, StringComparer.Ordinal).ToList();

    /// <inheritdoc />
    public void Delete(string tenant, string name)
    {
        CheckTenant(tenant);
        using var connection = database.DataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        PgSql.LockTenant(connection, transaction, tenant);
        if (Find(connection, transaction, tenant, name) is not { Owned: true })
        {
            throw new CorpusNotFoundException(name);
        }

        // Its documents and their spans and vectors go with it: the foreign keys cascade.
        PgSql.Execute(connection, transaction, "DELETE FROM corpora WHERE tenant = $1 AND name = $2", tenant, name);
        transaction.Commit();
        database.SpansChanged();
    }

    /// <inheritdoc />
    public string ReadableKey(string tenant, string name)
    {
        CheckTenant(tenant);
        using var session = PgSession.Begin(database.DataSource);
        var connection = session.Connection;
        return Find(connection, null, tenant, name)?.Key ?? throw new CorpusNotFoundException(name);
    }

    /// <inheritdoc />
    public string OwnedKey(string tenant, string name)
    {
        CheckTenant(tenant);
        using var session = PgSession.Begin(database.DataSource);
        var connection = session.Connection;
        return Find(connection, null, tenant, name) is { Owned: true } found ? found.Key : throw new CorpusNotFoundException(name);
    }

    /// <inheritdoc />
    public IReadOnlySet<string> Readable(string tenant)
    {
        CheckTenant(tenant);
        using var session = PgSession.Begin(database.DataSource);
        var connection = session.Connection;
        using var select = PgSql.Command(connection, null, "SELECT tenant, name FROM corpora WHERE tenant = $1 OR shared", tenant);
        using var reader = select.ExecuteReader();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            keys.Add(PostgresCorpusKeys.KeyOf(reader.GetString(0), reader.GetString(1)));
        }

        return keys;
    }

    /// <inheritdoc />
    public void SetShared(string key, bool shared)
    {
        var corpus = PostgresCorpusKeys.Parse(key);
        using var session = PgSession.Begin(database.DataSource);
        var connection = session.Connection;
        if (PgSql.Execute(connection, null, "UPDATE corpora SET shared = $3, updated_at = $4 WHERE tenant = $1 AND name = $2",
                corpus.Tenant, corpus.Corpus, shared, _clock.GetUtcNow()) == 0)
        {
            throw new CorpusNotFoundException(key);
        }

        session.Commit();
    }

    // A tenant is never '', the operator's own tenant in the rows: that would hand a caller the operator's corpora.
    private static void CheckTenant(string tenant) => ArgumentException.ThrowIfNullOrEmpty(tenant);

    // The tenant's own corpus of that name, else a shared one of that name (the operator's before another tenant's).
    private static (string Key, bool Owned)? Find(NpgsqlConnection connection, NpgsqlTransaction? transaction, string tenant, string name)
    {
        using var select = PgSql.Command(connection, transaction, """
            SELECT tenant FROM corpora
            WHERE name = $2 AND (tenant = $1 OR shared)
            ORDER BY tenant = $1 DESC, tenant <> '', tenant COLLATE "C" LIMIT 1
            """, tenant, name);
        return select.ExecuteScalar() is string owner ? (PostgresCorpusKeys.KeyOf(owner, name), owner == tenant) : null;
    }

    private List<Row> Read(string sql, params object?[] values)
    {
        using var session = PgSession.Begin(database.DataSource);
        var connection = session.Connection;
        using var select = PgSql.Command(connection, null, sql, values);
        using var reader = select.ExecuteReader();
        var rows = new List<Row>();
        while (reader.Read())
        {
            string tenant = reader.GetString(0), name = reader.GetString(1);
            rows.Add(new Row(tenant, name, PostgresCorpusKeys.KeyOf(tenant, name), reader.GetBoolean(2), reader.GetFieldValue<DateTimeOffset>(3),
                checked((int)reader.GetInt64(4)), Convert.ToInt64(reader.GetValue(5), CultureInfo.InvariantCulture)));
        }

        return rows;
    }

    private sealed record Row(string Tenant, string Name, string Key, bool Shared, DateTimeOffset CreatedAt, int Documents, long Bytes);
}
