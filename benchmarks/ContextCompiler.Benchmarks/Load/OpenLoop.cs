using System.Diagnostics;

namespace ContextCompiler.Benchmarks.Load;

/// <summary>What an open-loop run did.</summary>
/// <param name="Scheduled">Requests due within the run's length.</param>
/// <param name="Completed">Requests that succeeded (their latencies are in the log).</param>
/// <param name="Failed">Requests that finished with a failure.</param>
/// <param name="Unfinished">Requests not done when the drain time ran out or the run was stopped (never sent, or cancelled).</param>
/// <param name="Start">Stopwatch timestamp of the first request's due time.</param>
/// <param name="End">Stopwatch timestamp of the last completion, or of the schedule's end if later.</param>
internal sealed record OpenLoopRun(long Scheduled, int Completed, int Failed, int Unfinished, long Start, long End)
{
    /// <summary>Seconds from the first due time to the last completion, at least the schedule's length.</summary>
    public double Seconds => Stopwatch.GetElapsedTime(Start, End).TotalSeconds;

    /// <summary>Successful requests per second over <see cref="Seconds"/>: below the offered rate when the server could not keep up.</summary>
    public double AchievedRate => Completed / Seconds;
}

/// <summary>
/// Open-loop arrivals at a fixed rate: request k is due at t0 + k/rate and goes to lane k mod lanes, and it is started
/// whether or not earlier requests have finished, so a slow server meets the same demand instead of slowing its clients
/// down. Within a lane requests go in order (a chat sends its next turn after the last one answered), and a request's
/// latency runs from its due time, not from when it could be sent: time spent queued behind a slow answer is counted
/// (no coordinated omission).
/// </summary>
internal static class OpenLoop
{
    /// <summary>
    /// Runs requests due during <paramref name="length"/> at <paramref name="rate"/> per second over <paramref name="lanes"/>
    /// lanes. <paramref name="timed"/> sends request k on its lane and says whether it succeeded; its latency (from the due
    /// time to its return) goes to <paramref name="log"/>. <paramref name="after"/>, if given, then runs on the same lane
    /// untimed (a reply, a session rotation). After the schedule, requests still running get <paramref name="drain"/> to
    /// finish before they are cancelled; <paramref name="stop"/> ends the schedule early.
    /// </summary>
    public static async Task<OpenLoopRun> RunAsync(
        double rate, TimeSpan length, int lanes, Func<int, long, CancellationToken, Task<bool>> timed, Func<int, long, CancellationToken, Task>? after,
        LatencyLog log, TimeSpan drain, CancellationToken stop = default)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var tails = Enumerable.Repeat(Task.CompletedTask, lanes).ToArray();
        var counts = new Counts();
        var token = cancel.Token;
        long start = Stopwatch.GetTimestamp();
        long scheduled = 0;
        while (!stop.IsCancellationRequested)
        {
            double due = scheduled / rate;
            if (due >= length.TotalSeconds)
            {
                break;
            }

            var wait = TimeSpan.FromSeconds(due) - Stopwatch.GetElapsedTime(start);
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    // Whole milliseconds, rounded up: a request is never sent before it is due. A late wake-up sends the
                    // requests it missed at once, still timed from their due times.
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)), stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            long k = scheduled++;
            int lane = (int)(k % lanes);
            var previous = tails[lane];
            long dueAt = start + (long)(due * Stopwatch.Frequency);
            // Off the scheduler's thread, so a request that starts synchronously cannot delay the next one's start.
            tails[lane] = Task.Run(() => TakeAsync(previous, lane, k, dueAt, timed, after, log, counts, token));
        }

        // The schedule spans its whole length (the last request is due 1/rate before its end), unless it was stopped early.
        long scheduleEnd = stop.IsCancellationRequested ? Stopwatch.GetTimestamp() : start + (long)(length.TotalSeconds * Stopwatch.Frequency);
        var all = Task.WhenAll(tails);
        try
        {
            await all.WaitAsync(drain, stop);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            await cancel.CancelAsync();
            await all;
        }

        // The run lasts until its last answer, or its schedule's end when every answer came before it.
        long end = Math.Max(Interlocked.Read(ref counts.LastCompletion), scheduleEnd);
        return new OpenLoopRun(scheduled, counts.Completed, counts.Failed, counts.Unfinished, start, end);
    }

    private static async Task TakeAsync(
        Task previous, int lane, long k, long due, Func<int, long, CancellationToken, Task<bool>> timed, Func<int, long, CancellationToken, Task>? after,
        LatencyLog log, Counts counts, CancellationToken cancel)
    {
        await previous;
        if (cancel.IsCancellationRequested)
        {
            Interlocked.Increment(ref counts.Unfinished);
            return;
        }

        bool ok;
        try
        {
            ok = await timed(lane, k, cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Interlocked.Increment(ref counts.Unfinished);
            return;
        }

        long done = Stopwatch.GetTimestamp();
        if (ok)
        {
            log.Record(done, Stopwatch.GetElapsedTime(due, done).TotalMilliseconds);
            Interlocked.Increment(ref counts.Completed);
        }
        else
        {
            Interlocked.Increment(ref counts.Failed);
        }

        InterlockedMax(ref counts.LastCompletion, done);
        if (after is not null)
        {
            try
            {
                await after(lane, k, cancel);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                // The request itself finished; only its untimed follow-up was cut short.
            }
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long seen = Interlocked.Read(ref target);
        while (value > seen)
        {
            long was = Interlocked.CompareExchange(ref target, value, seen);
            if (was == seen)
            {
                return;
            }

            seen = was;
        }
    }

    private sealed class Counts
    {
        public int Completed;
        public int Failed;
        public int Unfinished;
        public long LastCompletion;
    }
}
