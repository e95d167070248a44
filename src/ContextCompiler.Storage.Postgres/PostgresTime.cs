namespace ContextCompiler.Storage.Postgres;

/// <summary>
/// Times in the PostgreSQL store. <c>timestamptz</c> keeps microseconds, .NET ticks are 100 ns (and the SQLite store keeps
/// all seven digits), so the store cuts every time it creates to whole microseconds: what it returns is then what it
/// stored, and a session read back equals the one <c>Insert</c> was given.
/// </summary>
public static class PostgresTime
{
    private const long TicksPerMicrosecond = TimeSpan.TicksPerMicrosecond;

    /// <summary><paramref name="time"/> in UTC, cut down to a whole microsecond (what a <c>timestamptz</c> holds).</summary>
    public static DateTimeOffset Truncate(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return utc.AddTicks(-(utc.UtcTicks % TicksPerMicrosecond));
    }

    /// <summary>
    /// <paramref name="time"/> in UTC, rounded up to a whole microsecond: the bound to bind for <c>column &gt;= bound</c> and
    /// <c>column &lt; bound</c>. Npgsql would cut a bound's 100 ns digits, which turns <c>created_at &gt;= t</c> true for a
    /// row a few ticks before <c>t</c>; every stored time is a whole microsecond, so rounding the bound up gives exactly
    /// the rows the SQLite store's comparison gives. (<c>&gt;</c> and <c>&lt;=</c> bounds are right when cut down.)
    /// </summary>
    public static DateTimeOffset Ceiling(DateTimeOffset time)
    {
        var truncated = Truncate(time);
        return truncated.UtcTicks == time.UtcTicks ? truncated : truncated.AddTicks(TicksPerMicrosecond);
    }
}
