using System.Diagnostics;
using System.Globalization;
using ContextCompiler.Benchmarks.Quick;

namespace ContextCompiler.Benchmarks.Load;

/// <summary>
/// One offered rate held for a long time against <c>contextc serve</c> in its own process, watching it for leaks:
///   dotnet run -c Release --project benchmarks/ContextCompiler.Benchmarks -- soak [--db FILE] [--rate 50] [--minutes 30]
///     [--sessions 32] [--no-replies] [--puts 6] [--budget 1500] [--turns-per-session 20] [--drain 30]
/// (or <c>load --soak-minutes M</c>). The turns are the <c>load</c> command's open loop, with an assistant reply after each
/// and six document PUTs a minute by default. Every minute a row: the turns that finished in it with their p50 and p99,
/// errors, and the server's resident memory, GC heap and committed memory, threads, thread-pool threads, open handles and
/// collections. At the end a verdict: resident memory growth over the last 20 minutes (the last two thirds of a shorter
/// run) as a share of the resident memory at their start, goal at most 5%; errors over the whole run, goal 0.
/// </summary>
internal static class Soak
{
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(5);
    private const double GrowthGoalPercent = 5;

    public static async Task<int> RunAsync(string[] args)
    {
        double rate = double.Parse(BenchmarkArgs.Option(args, "--rate", "50"), CultureInfo.InvariantCulture);
        int minutes = int.Parse(BenchmarkArgs.Option(args, "--minutes", BenchmarkArgs.Option(args, "--soak-minutes", "30")), CultureInfo.InvariantCulture);
        var settings = LoadSettings.Parse(args, replies: !args.Contains("--no-replies"), putsPerMinute: 6);
        var stop = LoadTarget.CancelOnCtrlC();

        await using var target = await LoadTarget.StartAsync(settings, "soak");
        var puts = await DocumentPuts.CreateAsync(target.Http, target.Text, target.Errors, settings.PutsPerMinute);
        var script = target.Script(settings, "soak");
        var chats = await target.StartChatsAsync(settings.Sessions, script);
        Console.Error.WriteLine($"{rate} turns/s for {minutes} minutes; {settings.Describe()}");
        double warmRate = Math.Min(10, rate);
        var warm = await target.TurnsAsync(chats, script, warmRate, WarmUp, 0, new LatencyLog(), settings.Drain, stop.Token);
        Console.Error.WriteLine($"warm-up: {warm.Completed} turns at {warmRate} turns/s, {target.Errors.Total} errors");

        var table = new MarkdownTable("Minute", "Turns", "Turns/s", "p50 (ms)", "p99 (ms)", "Errors", "RSS (MB)", "GC heap (MB)", "GC committed (MB)",
            "Threads", "Pool threads", "Handles", "Gen0", "Gen1", "Gen2");
        Console.Write(table.Header());
        var figures = new List<ServerFigures> { await ServerFigures.ReadAsync(target.Server, target.Http) };
        Console.WriteLine(Row(table, 0, null, 0, figures[0]));

        var log = new LatencyLog();
        var length = TimeSpan.FromMinutes(minutes);
        long start = Stopwatch.GetTimestamp();
        var turns = target.TurnsAsync(chats, script, rate, length, warm.Scheduled, log, settings.Drain, stop.Token);
        var writes = puts.RunAsync(length, settings.Drain, stop.Token);
        int errors = target.Errors.Total;
        for (int minute = 1; minute <= minutes; minute++)
        {
            long end = start + minute * 60 * Stopwatch.Frequency;
            try
            {
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), end);
                await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            figures.Add(await ServerFigures.ReadAsync(target.Server, target.Http));
            var latency = log.Window(end - 60 * Stopwatch.Frequency, end);
            Console.WriteLine(Row(table, minute, latency, target.Errors.Total - errors, figures[^1]));
            errors = target.Errors.Total;
        }

        var run = await turns;
        var written = await writes;
        if (run.Unfinished > 0)
        {
            target.Errors.Add("turn unfinished at the end", $"{run.Unfinished} of {run.Scheduled} turns", run.Unfinished);
        }

        var all = log.Window();
        Console.Error.WriteLine(FormattableString.Invariant(
            $"{run.Completed} turns in {run.Seconds:F0} s ({run.AchievedRate:F1}/s of {rate} offered), p50 {all.Median:F0} ms, p99 {all.Percentile(99):F0} ms, max {all.Max:F0} ms; {written.Completed} document PUTs"));
        Console.Error.WriteLine($"the chats started {chats.Sum(c => c.Sessions)} sessions; errors: {target.Errors.Summary()}");
        Console.WriteLine();
        Console.WriteLine(Verdict(figures, target.Errors.Total));
        return 0;
    }

    private static string Row(MarkdownTable table, int minute, Samples? latency, int errors, ServerFigures f) =>
        table.Line(minute, latency is null ? "–" : (object)latency.Count, latency is null ? "–" : (object)(latency.Count / 60.0),
            latency is null ? "–" : (object)latency.Percentile(50), latency is null ? "–" : (object)latency.Percentile(99), errors, f.ResidentMegabytes, f.GcHeapMegabytes, f.GcCommittedMegabytes, f.Threads, f.PoolThreads, f.OpenFiles,
            f.Gen0, f.Gen1, f.Gen2);

    // Growth over the last 20 minutes, or the last two thirds of a shorter run, so that the first minutes' filling of
    // caches, pools and the heap's budget is not taken for a leak.
    private static string Verdict(List<ServerFigures> figures, int errors)
    {
        int done = figures.Count - 1;
        string errorVerdict = $"errors {errors} over the whole run (goal 0: {(errors == 0 ? "met" : "NOT met")})";
        if (done < 1)
        {
            return $"Verdict: no whole minute was run, so no memory verdict; {errorVerdict}.";
        }

        int span = Math.Min(20, Math.Max(1, (int)Math.Round(2.0 * done / 3)));
        var (from, to) = (figures[done - span], figures[done]);
        double growth = (to.ResidentMegabytes - from.ResidentMegabytes) / from.ResidentMegabytes * 100;
        return FormattableString.Invariant(
            $"Verdict: RSS {from.ResidentMegabytes:F0} MB at minute {done - span} → {to.ResidentMegabytes:F0} MB at minute {done}, {growth:+0.0;-0.0;0.0}% over the last {span} minute(s) ") +
            $"(goal ≤ {GrowthGoalPercent}%: {(growth <= GrowthGoalPercent ? "met" : "NOT met")}); {errorVerdict}. " +
            FormattableString.Invariant(
                $"Over the same minutes: GC heap {from.GcHeapMegabytes:F0} → {to.GcHeapMegabytes:F0} MB, GC committed {from.GcCommittedMegabytes:F0} → {to.GcCommittedMegabytes:F0} MB, ") +
            $"threads {from.Threads} → {to.Threads}, handles {from.OpenFiles} → {to.OpenFiles}.";
    }
}
