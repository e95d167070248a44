using System.Diagnostics.Metrics;
using ContextCompiler.Core.Telemetry;

namespace ContextCompiler.Core.Tests.Telemetry;

/// <summary>
/// The pending-vectors gauge reports what its registered sources say when a collector asks, and forgets a source once its
/// handle is disposed. Read here rather than through a server: a server test process holds many servers' sources at once.
/// </summary>
public sealed class VectorsPendingGaugeTests
{
    [Fact]
    public void The_gauge_reports_each_registered_source_until_its_handle_is_disposed()
    {
        var seen = new List<long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Instrumentation.Name && instrument.Name == "contextcompiler.vectors.pending")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => seen.Add(value));
        listener.Start();

        long pending = 41;
        var registration = Instrumentation.ObserveVectorsPending(() => pending);
        listener.RecordObservableInstruments();
        Assert.Contains(41L, seen);

        // Asked again later, it reads the source afresh rather than a value captured at registration.
        pending = 0;
        seen.Clear();
        listener.RecordObservableInstruments();
        Assert.Equal([0L], seen);

        registration.Dispose();
        seen.Clear();
        listener.RecordObservableInstruments();
        Assert.Empty(seen);
    }
}
