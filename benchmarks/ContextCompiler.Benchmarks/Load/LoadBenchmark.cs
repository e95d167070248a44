using System.Diagnostics;
using System.Globalization;
using ContextCompiler.Benchmarks.Quick;

namespace ContextCompiler.Benchmarks.Load;

/// <summary>
/// Turn latency under an offered load, against <c>contextc serve</c> in its own process:
///   dotnet run -c Release --project benchmarks/ContextCompiler.Benchmarks -- load [--db FILE] [--rates 25,50,100,150] [--seconds 15]
///     [--sessions 32] [--replies] [--puts N] [--closed N] [--budget 1500] [--turns-per-session 20] [--drain 30]
/// For each rate, an open loop (<see cref="OpenLoop"/>): turns due at fixed times over the chats, sent whether or not
/// earlier ones have answered, each timed from its due time, so queueing counts. Every message is new text (cold neural
/// queries). <c>--replies</c> posts an assistant reply after each turn, <c>--puts N</c> mixes in N document PUTs a minute;
/// their failures count as errors. <c>--closed N</c> then runs N chats that each send the next turn when the last one
/// answered, for the saturation throughput. With <c>--soak-minutes M</c> it is the soak instead (<see cref="Soak"/>).
/// </summary>
internal static class LoadBenchmark
{
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Contains("--soak-minutes"))
        {
            return await Soak.RunAsync(args);
        }

        var rates = BenchmarkArgs.Option(args, "--rates", "25,50,100,150").Split(',').Select(r => double.Parse(r, CultureInfo.InvariantCulture)).ToArray();
        var length = TimeSpan.FromSeconds(double.Parse(BenchmarkArgs.Option(args, "--seconds", "15"), CultureInfo.InvariantCulture));
        int closed = int.Parse(BenchmarkArgs.Option(args, "--closed", "0"), CultureInfo.InvariantCulture);
        var settings = LoadSettings.Parse(args, replies: args.Contains("--replies"), putsPerMinute: 0);
        var stop = LoadTarget.CancelOnCtrlC();

        await using var target = await LoadTarget.StartAsync(settings, "load");
        var puts = await DocumentPuts.CreateAsync(target.Http, target.Text, target.Errors, settings.PutsPerMinute);
        var script = target.Script(settings, "open");
        var chats = await target.StartChatsAsync(settings.Sessions, script);
        Console.Error.WriteLine(settings.Describe());

        // Warm-up, not reported: JIT, the models' first runs, the connection pool.
        double warmRate = Math.Min(10, rates.Min());
        var warm = await target.TurnsAsync(chats, script, warmRate, WarmUp, 0, new LatencyLog(), settings.Drain, stop.Token);
        long first = warm.Scheduled;
        Console.Error.WriteLine($"warm-up: {warm.Completed} turns at {warmRate} turns/s, {target.Errors.Total} errors");

        var table = new MarkdownTable("Offered (turns/s)", "Achieved (turns/s)", "Turns", "p50 (ms)", "p95 (ms)", "p99 (ms)", "max (ms)", "Errors", "RSS (MB)", "Server CPU (cores)");
        Console.Write(table.Header());
        foreach (double rate in rates.TakeWhile(_ => !stop.IsCancellationRequested))
        {
            int errors = target.Errors.Total;
            var cpu = target.Server.CpuTime();
            var clientCpu = ClientCpu();
            var log = new LatencyLog();
            var writes = puts.RunAsync(length, settings.Drain, stop.Token);
            var run = await target.TurnsAsync(chats, script, rate, length, first, log, settings.Drain, stop.Token);
            var written = await writes;
            first += run.Scheduled;
            if (run.Unfinished > 0)
            {
                target.Errors.Add("turn unfinished at the end", $"{run.Unfinished} of {run.Scheduled} turns at {rate}/s", run.Unfinished);
            }

            var latency = log.Window();
            double cores = (target.Server.CpuTime() - cpu).TotalSeconds / run.Seconds;
            Console.WriteLine(table.Line(rate, run.AchievedRate, run.Completed, latency.Percentile(50), latency.Percentile(95), latency.Percentile(99), latency.Max,
                target.Errors.Total - errors, target.Server.ReadProcStatus().ResidentMegabytes, cores));
            // On a small machine the client's own CPU competes with the server's; say how much it took.
            Console.Error.WriteLine(FormattableString.Invariant($"{rate} turns/s: {run.Scheduled} sent, the client used {(ClientCpu() - clientCpu).TotalSeconds / run.Seconds:F2} cores")
                + (written.Scheduled > 0 ? FormattableString.Invariant($"; {written.Completed} document PUTs, p50 {puts.Log.Window(written.Start).Median:F0} ms") : ""));
        }

        if (closed > 0 && !stop.IsCancellationRequested)
        {
            int errors = target.Errors.Total;
            var cpu = target.Server.CpuTime();
            var writes = puts.RunAsync(length, settings.Drain, stop.Token);
            var (turns, seconds, latencies, _) = await TurnLoad.Drive([target.Http], target.Text.Questions, closed, length.TotalSeconds, target.Script(settings, "closed"), target.Errors);
            await writes;
            double cores = (target.Server.CpuTime() - cpu).TotalSeconds / seconds;
            var latency = new Samples();
            latencies.ForEach(latency.Add);
            Console.WriteLine();
            var closedTable = new MarkdownTable("Closed-loop sessions", "Turns", "Seconds", "Turns/s", "p50 (ms)", "p95 (ms)", "p99 (ms)", "max (ms)", "Errors", "RSS (MB)", "Server CPU (cores)");
            Console.Write(closedTable.Row(closed, turns, seconds, turns / seconds, latency.Percentile(50), latency.Percentile(95), latency.Percentile(99), latency.Max,
                target.Errors.Total - errors, target.Server.ReadProcStatus().ResidentMegabytes, cores));
        }

        Console.Error.WriteLine($"open-loop chats started {chats.Sum(c => c.Sessions)} sessions; errors: {target.Errors.Summary()}");
        return 0;
    }

    private static TimeSpan ClientCpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }
}
