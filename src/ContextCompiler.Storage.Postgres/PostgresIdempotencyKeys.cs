using ContextCompiler.Engine.Sessions;
using Npgsql;
using NpgsqlTypes;

namespace ContextCompiler.Storage.Postgres;

/// <summary>
/// The PostgreSQL <see cref="IIdempotencyKeyStore"/>, and the save that <see cref="PostgresSessionRepository"/> runs inside
/// its writes. Keys are shared by every replica: a retry that reaches another replica finds the first one's response.
/// </summary>
public sealed class PostgresIdempotencyKeys(PostgresDatabase database, TimeProvider? clock = null) : IIdempotencyKeyStore
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <inheritdoc />
    public IdempotencyRecord? Find(string tenant, string key)
    {
        using var select = database.DataSource.CreateCommand("""
            SELECT fingerprint, status, body, location FROM idempotency_keys
            WHERE tenant = $1 AND key = $2 AND expires_at > $3
            """);
        select.Parameters.Add(new NpgsqlParameter { Value = tenant });
        select.Parameters.Add(new NpgsqlParameter { Value = key });
        // A '>' bound is right cut down to microseconds (see PostgresTime.Ceiling).
        select.Parameters.Add(new NpgsqlParameter { Value = PostgresTime.Truncate(_clock.GetUtcNow()) });
        using var reader = select.ExecuteReader();
        return reader.Read()
            ? new IdempotencyRecord(reader.GetString(0), new StoredResponse(reader.GetInt32(1), PostgresText.Read(reader, 2)!, reader.IsDBNull(3) ? null : reader.GetString(3)))
            : null;
    }

    /// <inheritdoc />
    public int PurgeExpired()
    {
        using var delete = database.DataSource.CreateCommand("DELETE FROM idempotency_keys WHERE expires_at <= $1");
        delete.Parameters.Add(new NpgsqlParameter { Value = PostgresTime.Truncate(_clock.GetUtcNow()) });
        return delete.ExecuteNonQuery();
    }

    /// <summary>
    /// Saves <paramref name="claim"/> with the response to <paramref name="result"/> in <paramref name="transaction"/>,
    /// stamped <paramref name="now"/> (a whole microsecond). An expired record of the same key is replaced; a live one
    /// means a concurrent request won.
    /// </summary>
    /// <exception cref="IdempotencyKeyTakenException">The key is already saved and unexpired.</exception>
    internal static void Save<T>(NpgsqlConnection connection, NpgsqlTransaction transaction, string tenant, IdempotencyClaim<T> claim, T result, DateTimeOffset now)
    {
        var response = claim.Respond(result);
        // One statement: a new key is inserted, an expired one is taken over, and a live one is left alone (no row).
        // Across replicas, a second insert of the same key waits for the first's transaction and then sees its row.
        using var insert = new NpgsqlCommand("""
            INSERT INTO idempotency_keys (tenant, key, fingerprint, status, body, location, created_at, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (tenant, key) DO UPDATE SET
                fingerprint = excluded.fingerprint, status = excluded.status, body = excluded.body, location = excluded.location,
                created_at = excluded.created_at, expires_at = excluded.expires_at
            WHERE idempotency_keys.expires_at <= excluded.created_at
            """, connection, transaction);
        insert.Parameters.Add(new NpgsqlParameter { Value = tenant });
        insert.Parameters.Add(new NpgsqlParameter { Value = claim.Key });
        insert.Parameters.Add(new NpgsqlParameter { Value = claim.Fingerprint });
        insert.Parameters.Add(new NpgsqlParameter { Value = response.Status });
        insert.Parameters.Add(new NpgsqlParameter { Value = PostgresText.Bind(response.Body), NpgsqlDbType = NpgsqlDbType.Bytea });
        insert.Parameters.Add(new NpgsqlParameter { Value = (object?)response.Location ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        insert.Parameters.Add(new NpgsqlParameter { Value = now });
        insert.Parameters.Add(new NpgsqlParameter { Value = PostgresTime.Truncate(now + claim.Lifetime) });
        if (insert.ExecuteNonQuery() == 0)
        {
            // The key is live: a concurrent request (possibly on another replica) saved it first. The caller's
            // transaction is rolled back when it is disposed uncommitted, so its write is undone too.
            throw new IdempotencyKeyTakenException(claim.Key);
        }
    }
}
