using System.Diagnostics;

namespace ContextCompiler.Benchmarks.Quick;

/// <summary>A set of measurements with order statistics (linear interpolation between closest ranks).</summary>
internal sealed class Samples
{
    private readonly List<double> _values = [];
    private double[]? _sorted;

    public int Count => _values.Count;

    public double Mean => _values.Count == 0 ? double.NaN : _values.Average();

    public double Min => Sorted().FirstOrDefault(double.NaN);

    public double Max => Sorted().LastOrDefault(double.NaN);

    public double Median => Percentile(50);

    public void Add(double value)
    {
        _values.Add(value);
        _sorted = null;
    }

    /// <summary>The <paramref name="percent"/>-th percentile, 0..100.</summary>
    public double Percentile(double percent)
    {
        var sorted = Sorted();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        double rank = percent / 100.0 * (sorted.Length - 1);
        int below = (int)Math.Floor(rank);
        int above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (sorted[above] - sorted[below]) * (rank - below);
    }

    private double[] Sorted()
    {
        if (_sorted is null)
        {
            _sorted = [.. _values];
            Array.Sort(_sorted);
        }

        return _sorted;
    }
}

/// <summary>How long latency measurements run.</summary>
/// <param name="MinRounds">Measured passes over all queries, at least.</param>
/// <param name="MinSeconds">Keep measuring whole passes until this much time has gone by…</param>
/// <param name="MaxSeconds">…but stop after the pass that crosses this (at least one pass is always measured).</param>
/// <param name="WarmupSeconds">Warm-up passes (at least two) run until this much time has gone by, so tiered JIT settles.</param>
internal sealed record LatencySettings(int MinRounds = 10, double MinSeconds = 3, double MaxSeconds = 12, double WarmupSeconds = 1);

/// <summary>Per-operation latency over a fixed list of inputs, and the mean number of results per operation.</summary>
internal sealed record LatencyResult(Samples Milliseconds, double MeanResults);

/// <summary>Stopwatch loops: latency per call over a set of inputs, and seconds per full pass for throughput.</summary>
internal static class Sampler
{
    /// <summary>
    /// Calls <paramref name="once"/> for every input index in order, pass after pass, timing each call.
    /// <paramref name="once"/> returns how many results it produced (to keep the work observable).
    /// </summary>
    public static LatencyResult Latency(int inputs, Func<int, int> once, LatencySettings settings)
    {
        var warmup = Stopwatch.StartNew();
        int warmupRounds = 0;
        do
        {
            for (int i = 0; i < inputs; i++)
            {
                once(i);
            }

            warmupRounds++;
        }
        while (warmupRounds < 2 || (warmup.Elapsed.TotalSeconds < settings.WarmupSeconds && warmup.Elapsed.TotalSeconds < settings.MaxSeconds / 2));

        Settle();
        var samples = new Samples();
        long results = 0;
        var total = Stopwatch.StartNew();
        int rounds = 0;
        do
        {
            for (int i = 0; i < inputs; i++)
            {
                long start = Stopwatch.GetTimestamp();
                results += once(i);
                samples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            rounds++;
        }
        while (total.Elapsed.TotalSeconds < settings.MaxSeconds && (rounds < settings.MinRounds || total.Elapsed.TotalSeconds < settings.MinSeconds));

        return new LatencyResult(samples, (double)results / samples.Count);
    }

    /// <summary>Runs <paramref name="pass"/> <paramref name="warmups"/> times untimed, then <paramref name="passes"/> times timed; seconds per pass.</summary>
    public static Samples Passes(Action pass, int warmups, int passes)
    {
        for (int i = 0; i < warmups; i++)
        {
            pass();
        }

        Settle();
        var seconds = new Samples();
        for (int i = 0; i < passes; i++)
        {
            long start = Stopwatch.GetTimestamp();
            pass();
            seconds.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        return seconds;
    }

    /// <summary>Collects garbage left by the previous section so it is not billed to the next.</summary>
    public static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
