namespace ContextCompiler.Engine.Index;

/// <summary>What a store says about itself for health checks and logs, the same question for every provider.</summary>
public interface IStoreStatus
{
    /// <summary>The provider's name, as configured (<c>sqlite</c>).</summary>
    string Provider { get; }

    /// <summary>Where the data lives, for logs: a file path, or a host and database; never a password.</summary>
    string Location { get; }

    /// <summary>The schema version of the database, read from it: a query that fails when the database cannot be reached.</summary>
    int SchemaVersion();
}
