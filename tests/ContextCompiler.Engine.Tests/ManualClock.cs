namespace ContextCompiler.Engine.Tests;

/// <summary>A clock that stands still until a test moves it (the fake-clock package is not referenced here).</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}
