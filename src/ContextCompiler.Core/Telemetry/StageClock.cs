using System.Diagnostics;
using ContextCompiler.Core.Compile;

namespace ContextCompiler.Core.Telemetry;

/// <summary>
/// Times a compile's stages one after another: each <see cref="Enter"/> ends the stage before it. Every stage is at once a
/// child span of the compile, a measurement of <see cref="Instrumentation.StageDuration"/> and a <see cref="StageTiming"/>
/// for <c>explain</c>, so the three can never disagree.
/// </summary>
internal sealed class StageClock(ActivityContext parent)
{
    private readonly List<StageTiming> _timings = [];
    private readonly Stopwatch _clock = new();
    private Activity? _activity;
    private string? _stage;

    /// <summary>The stages ended so far, in order.</summary>
    public IReadOnlyList<StageTiming> Timings => _timings;

    /// <summary>Ends the current stage, if any, and starts <paramref name="stage"/>.</summary>
    public void Enter(string stage)
    {
        End();
        _stage = stage;
        _activity = Instrumentation.Source.StartActivity(stage, ActivityKind.Internal, parent);
        _clock.Restart();
    }

    /// <summary>Ends the current stage.</summary>
    public void End()
    {
        if (_stage is null)
        {
            return;
        }

        var elapsed = _clock.Elapsed;
        _timings.Add(new StageTiming(_stage, Math.Round(elapsed.TotalMilliseconds, 3)));
        Instrumentation.StageDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>(Tags.Stage, _stage));
        _activity?.Dispose();
        (_activity, _stage) = (null, null);
    }
}
