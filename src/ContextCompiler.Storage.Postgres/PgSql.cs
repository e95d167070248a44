using Npgsql;
using NpgsqlTypes;

namespace ContextCompiler.Storage.Postgres;

/// <summary>Commands with positional parameters ($1, $2 …), the store's one way of binding values.</summary>
internal static class PgSql
{
    /// <summary>A command on <paramref name="connection"/>; each value is bound in order, an <see cref="NpgsqlParameter"/> as it is.</summary>
    public static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params object?[] values)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (object? value in values)
        {
            command.Parameters.Add(value as NpgsqlParameter ?? new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        return command;
    }

    /// <summary>A text parameter that may be null: an untyped null leaves PostgreSQL unable to tell the parameter's type.</summary>
    public static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    /// <summary>A text[] parameter.</summary>
    public static NpgsqlParameter TextArray(IEnumerable<string> values) => new() { Value = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };

    public static int Execute(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params object?[] values)
    {
        using var command = Command(connection, transaction, sql, values);
        return command.ExecuteNonQuery();
    }

    public static object? Scalar(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params object?[] values)
    {
        using var command = Command(connection, transaction, sql, values);
        return command.ExecuteScalar();
    }

    /// <summary>
    /// Takes the transaction-level advisory lock that serialises a tenant's writes, so quotas checked after it hold
    /// across replicas. On PGlite every connection shares one session, where the lock is re-entrant and excludes no one;
    /// PGlite runs one transaction at a time, which serialises the writes there anyway.
    /// </summary>
    public static void LockTenant(NpgsqlConnection connection, NpgsqlTransaction transaction, string tenant) =>
        Execute(connection, transaction, "SELECT pg_advisory_xact_lock(hashtext('quota:' || $1))", Text(tenant));
}

/// <summary>
/// A pooled connection with a transaction open on it, which every statement of the store runs in. On PostgreSQL that
/// costs one round trip more per read; it is for PGlite's socket server (the tests' database), which interleaves
/// connections' protocol messages one by one outside a transaction, so that one connection's unnamed prepared statement
/// can replace another's between its Parse and its Bind ("unnamed prepared statement does not exist"); inside a
/// transaction it serves only the connection that began it. Disposed without <see cref="Commit"/>, it rolls back.
/// </summary>
internal sealed class PgSession : IDisposable
{
    private PgSession(NpgsqlConnection connection)
    {
        Connection = connection;
        Transaction = connection.BeginTransaction();
    }

    public NpgsqlConnection Connection { get; }

    public NpgsqlTransaction Transaction { get; }

    public static PgSession Begin(NpgsqlDataSource dataSource) => new(dataSource.OpenConnection());

    public void Commit() => Transaction.Commit();

    public void Dispose()
    {
        Transaction.Dispose();
        Connection.Dispose();
    }
}
