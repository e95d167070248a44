namespace ContextCompiler.Benchmarks;

/// <summary>Flags and percentiles shared by the Stopwatch-based benchmark commands.</summary>
internal static class BenchmarkArgs
{
    /// <summary>The value after <paramref name="name"/> in <paramref name="args"/>, or <paramref name="fallback"/>.</summary>
    public static string Option(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    /// <summary>The <paramref name="percent"/>th percentile of <paramref name="values"/>, by linear interpolation between ranks.</summary>
    public static double Percentile(IEnumerable<double> values, double percent)
    {
        var sorted = values.Order().ToList();
        double rank = percent / 100 * (sorted.Count - 1);
        int low = (int)Math.Floor(rank);
        int high = Math.Min(sorted.Count - 1, low + 1);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }
}
