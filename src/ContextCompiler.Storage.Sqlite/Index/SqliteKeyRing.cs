using ContextCompiler.Engine.Stores;
using ContextCompiler.Engine.Index;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>The SQLite <see cref="IKeyRingStore"/>: the <c>data_protection_keys</c> table of the index file.</summary>
internal sealed class SqliteKeyRing(IndexStore store, TimeProvider clock) : IKeyRingStore
{
    public IReadOnlyList<string> All()
    {
        using var lease = store.Rent();
        using var select = Sql.Command(lease.Connection, null, "SELECT xml FROM data_protection_keys ORDER BY id");
        using var reader = select.ExecuteReader();
        var keys = new List<string>();
        while (reader.Read())
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    public void Add(string friendlyName, string xml)
    {
        using var lease = store.Rent();
        using var insert = Sql.Command(lease.Connection, null,
            "INSERT INTO data_protection_keys (friendly_name, xml, created_at) VALUES ($name, $xml, $now) ON CONFLICT (friendly_name) DO NOTHING",
            ("$name", friendlyName), ("$xml", xml), ("$now", Timestamps.Format(clock.GetUtcNow())));
        insert.ExecuteNonQuery();
    }
}
