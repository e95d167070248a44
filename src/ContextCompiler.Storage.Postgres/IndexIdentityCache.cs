using ContextCompiler.Core.Compile;

namespace ContextCompiler.Storage.Postgres;

/// <summary>
/// The index identity every compile records in its manifest (model, schema version, vector coverage), read from the
/// database at most once per <see cref="MaxAge"/>: counting the spans and their vectors scans the whole table, which at
/// 100,000 spans was most of a compile's time. A write this replica commits (<see cref="PostgresDatabase.SpansChanged"/>)
/// makes the next compile read it again, so a replica's own writes show at once; another replica's show within
/// <see cref="MaxAge"/>, as the SQLite store's coverage follows its in-memory copy of the index.
/// </summary>
public sealed class IndexIdentityCache(PostgresDatabase database, TimeProvider clock, Func<IndexIdentity> read)
{
    /// <summary>How long an identity read from the database is reused while this replica writes nothing.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    private Entry? _last;

    /// <summary>The identity, from the database when the one held is older than <see cref="MaxAge"/> or a local write followed it.</summary>
    public IndexIdentity Current()
    {
        var last = Volatile.Read(ref _last);
        long writes = database.SpanWrites;
        long now = clock.GetTimestamp();
        if (last is not null && last.Writes == writes && clock.GetElapsedTime(last.Timestamp, now) < MaxAge)
        {
            return last.Identity;
        }

        // The write count is taken before reading, so a write committed during the read makes the next call read again.
        var identity = read();
        Volatile.Write(ref _last, new Entry(identity, writes, now));
        return identity;
    }

    private sealed record Entry(IndexIdentity Identity, long Writes, long Timestamp);
}
