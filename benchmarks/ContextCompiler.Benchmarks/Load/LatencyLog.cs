using System.Diagnostics;
using ContextCompiler.Benchmarks.Quick;

namespace ContextCompiler.Benchmarks.Load;

/// <summary>
/// Completed requests with the <see cref="Stopwatch"/> timestamp each finished at and its latency, safe to record from
/// many tasks; read back whole or by window of completion time (a soak's minute).
/// </summary>
internal sealed class LatencyLog
{
    private readonly List<(long Completed, double Milliseconds)> _entries = [];

    /// <summary>Records one request that finished at <paramref name="completed"/> after <paramref name="milliseconds"/>.</summary>
    public void Record(long completed, double milliseconds)
    {
        lock (_entries)
        {
            _entries.Add((completed, milliseconds));
        }
    }

    /// <summary>The latencies of the requests that finished at or after <paramref name="from"/> and before <paramref name="to"/>.</summary>
    public Samples Window(long from = long.MinValue, long to = long.MaxValue)
    {
        var samples = new Samples();
        lock (_entries)
        {
            foreach (var (completed, milliseconds) in _entries)
            {
                if (completed >= from && completed < to)
                {
                    samples.Add(milliseconds);
                }
            }
        }

        return samples;
    }
}
