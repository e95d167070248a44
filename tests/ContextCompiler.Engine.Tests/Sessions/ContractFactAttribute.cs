namespace ContextCompiler.Engine.Sessions.Contract;

/// <summary>A test of the shared session store contract here, on SQLite: needs nothing beyond the project's assets.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ContractFactAttribute : FactAttribute;
