namespace ContextCompiler.Engine.Sessions.Contract;

/// <summary>
/// A test of the shared session store contract here: it needs the PGlite server, so it skips without Node.js like
/// <see cref="ContextCompiler.Storage.Postgres.Tests.PgliteFactAttribute"/> (and fails under CI instead).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ContractFactAttribute : FactAttribute
{
    public ContractFactAttribute()
    {
        var node = ContextCompiler.Storage.Postgres.Tests.NodeLocator.Current;
        if (!node.Found && !ContextCompiler.Storage.Postgres.Tests.NodeLocator.MustRun)
        {
            Skip = node.Reason;
        }
    }
}
