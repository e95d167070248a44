using ContextCompiler.Core.Errors;
using ContextCompiler.Engine.Index;
using Microsoft.Data.Sqlite;
using ContextCompiler.Engine.Sessions;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>The SQL of the <c>idempotency_keys</c> table: the SQLite <see cref="IIdempotencyKeyStore"/>, and the save that <see cref="SessionRepository"/> runs inside its writes.</summary>
public sealed class IdempotencyKeys(IndexStore store, TimeProvider? clock = null) : IIdempotencyKeyStore
{
    private readonly TimeProvider _clock = clock ?? store.Clock;

    /// <inheritdoc />
    public IdempotencyRecord? Find(string tenant, string key)
    {
        using var lease = store.Rent();
        using var select = lease.Connection.CreateCommand();
        select.CommandText = """
            SELECT fingerprint, status, body, location FROM idempotency_keys
            WHERE tenant = $tenant AND key = CAST($key AS TEXT) AND expires_at > $now
            """;
        select.Parameters.AddWithValue("$tenant", tenant);
        select.Parameters.AddWithValue("$key", ExactText.Bind(key));
        select.Parameters.AddWithValue("$now", Timestamps.Format(_clock.GetUtcNow()));
        using var reader = select.ExecuteReader();
        return reader.Read()
            ? new IdempotencyRecord(reader.GetString(0), new StoredResponse(reader.GetInt32(1), ExactText.Read(reader, 2)!, reader.IsDBNull(3) ? null : reader.GetString(3)))
            : null;
    }

    /// <summary>
    /// Saves <paramref name="claim"/> with the response to <paramref name="result"/> in <paramref name="transaction"/>.
    /// An expired record of the same key is replaced; a live one means a concurrent request won.
    /// </summary>
    /// <exception cref="IdempotencyKeyTakenException">The key is already saved and unexpired.</exception>
    internal void Save<T>(SqliteConnection connection, SqliteTransaction transaction, string tenant, IdempotencyClaim<T> claim, T result)
    {
        var now = _clock.GetUtcNow();
        var response = claim.Respond(result);
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        // One statement: a new key is inserted, an expired one is taken over, and a live one is left alone (no row changes).
        insert.CommandText = """
            INSERT INTO idempotency_keys (tenant, key, fingerprint, status, body, location, created_at, expires_at)
            VALUES ($tenant, CAST($key AS TEXT), $fingerprint, $status, CAST($body AS TEXT), $location, $now, $expires)
            ON CONFLICT (tenant, key) DO UPDATE SET
                fingerprint = excluded.fingerprint, status = excluded.status, body = excluded.body, location = excluded.location,
                created_at = excluded.created_at, expires_at = excluded.expires_at
            WHERE idempotency_keys.expires_at <= excluded.created_at
            """;
        insert.Parameters.AddWithValue("$tenant", tenant);
        insert.Parameters.AddWithValue("$key", ExactText.Bind(claim.Key));
        insert.Parameters.AddWithValue("$fingerprint", claim.Fingerprint);
        insert.Parameters.AddWithValue("$status", response.Status);
        insert.Parameters.AddWithValue("$body", ExactText.Bind(response.Body));
        insert.Parameters.AddWithValue("$location", (object?)response.Location ?? DBNull.Value);
        insert.Parameters.AddWithValue("$now", Timestamps.Format(now));
        insert.Parameters.AddWithValue("$expires", Timestamps.Format(now + claim.Lifetime));
        if (insert.ExecuteNonQuery() == 0)
        {
            // The key is live: a concurrent request (possibly in another process) saved it first. The caller's
            // transaction is rolled back, so its write is undone too.
            throw new IdempotencyKeyTakenException(claim.Key);
        }
    }

    /// <inheritdoc />
    public int PurgeExpired()
    {
        using var lease = store.Rent();
        using var delete = lease.Connection.CreateCommand();
        delete.CommandText = "DELETE FROM idempotency_keys WHERE expires_at <= $now";
        delete.Parameters.AddWithValue("$now", Timestamps.Format(_clock.GetUtcNow()));
        return delete.ExecuteNonQuery();
    }
}
