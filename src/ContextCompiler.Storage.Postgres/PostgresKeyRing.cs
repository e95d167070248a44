using ContextCompiler.Engine.Stores;
using NpgsqlTypes;

namespace ContextCompiler.Storage.Postgres;

/// <summary>
/// The PostgreSQL <see cref="IKeyRingStore"/>: <c>data_protection_keys</c>, the one table without a tenant (a reference
/// table once distributed), read by every replica so a cookie signed by one is accepted by all.
/// </summary>
internal sealed class PostgresKeyRing(PostgresDatabase database, TimeProvider clock) : IKeyRingStore
{
    public IReadOnlyList<string> All()
    {
        using var session = PgSession.Begin(database.DataSource);
        var keys = new List<string>();
        using (var select = PgSql.Command(session.Connection, session.Transaction, "SELECT xml FROM data_protection_keys ORDER BY id"))
        using (var reader = select.ExecuteReader())
        {
            while (reader.Read())
            {
                keys.Add(reader.GetString(0));
            }
        }

        session.Commit();
        return keys;
    }

    public void Add(string friendlyName, string xml)
    {
        using var session = PgSession.Begin(database.DataSource);
        PgSql.Execute(session.Connection, session.Transaction,
            "INSERT INTO data_protection_keys (friendly_name, xml, created_at) VALUES ($1, $2, $3) ON CONFLICT (friendly_name) DO NOTHING",
            PgSql.Text(friendlyName), PgSql.Text(xml), new Npgsql.NpgsqlParameter { Value = clock.GetUtcNow().UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        session.Commit();
    }
}
