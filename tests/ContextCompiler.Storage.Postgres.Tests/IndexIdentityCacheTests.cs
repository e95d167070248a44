using ContextCompiler.Core.Compile;

namespace ContextCompiler.Storage.Postgres.Tests;

/// <summary>The compile-time index identity is read from the database at most once a second, and again after this replica writes.</summary>
public sealed class IndexIdentityCacheTests
{
    [Fact]
    public async Task The_identity_is_reused_within_its_age_and_read_again_after_a_local_write_or_when_it_is_older()
    {
        // No query runs: the data source connects on first use, and the reads below are counted, not sent.
        await using var database = new PostgresDatabase("Host=127.0.0.1;Port=1;Username=nobody");
        var clock = new ManualClock();
        int reads = 0;
        var cache = new IndexIdentityCache(database, clock, () => new IndexIdentity("m", "v", new VectorCoverage(10, ++reads)));

        Assert.Equal(1, cache.Current().Vectors!.WithVectors);
        clock.Advance(TimeSpan.FromMilliseconds(900));
        Assert.Equal(1, cache.Current().Vectors!.WithVectors);

        database.SpansChanged();
        Assert.Equal(2, cache.Current().Vectors!.WithVectors);
        Assert.Equal(2, cache.Current().Vectors!.WithVectors);

        clock.Advance(IndexIdentityCache.MaxAge);
        Assert.Equal(3, cache.Current().Vectors!.WithVectors);
        Assert.Equal(3, reads);
    }

    /// <summary>A clock that moves only when told to.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
