using System.Reflection;
using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Retrieve;
using Microsoft.Extensions.AI;

namespace ContextCompiler.Engine.Stores;

/// <summary>
/// A kind of store the engine can run on (SQLite, PostgreSQL). Implementations have a public parameterless constructor,
/// so <see cref="StoreProviders"/> can find them by name.
/// </summary>
public interface IStoreProvider
{
    /// <summary>The name <c>ContextCompiler:Storage:Provider</c> selects it by (<c>sqlite</c>, <c>postgres</c>).</summary>
    string Name { get; }

    /// <summary>Opens the store <paramref name="options"/> name, migrating it if need be; <paramref name="services"/> give the clock, assets and embedders.</summary>
    IStore Open(IServiceProvider services, ContextCompilerOptions options);

    /// <summary>
    /// Makes a new, empty store of this kind for one evaluation, beside the one <paramref name="options"/> name (SQLite: a
    /// file in a temporary folder; PostgreSQL: a schema of its own in the same database). Disposing it removes it.
    /// </summary>
    ITemporaryStore CreateTemporary(ContextCompilerOptions options);
}

/// <summary>A store that exists for one evaluation: the storage options that open it, and its removal on dispose.</summary>
public interface ITemporaryStore : IDisposable
{
    /// <summary>The options that open the temporary store (provider and connection string).</summary>
    StorageOptions Storage { get; }
}

/// <summary>
/// An open store: every seam the engine's logic uses, over one database. Disposing it closes its connections.
/// </summary>
public interface IStore : IDisposable
{
    /// <summary>Spans, their vectors and the artifacts they come from.</summary>
    Index.ISpanIndex SpanIndex { get; }

    /// <summary>What the store says about itself for health checks.</summary>
    Index.IStoreStatus Status { get; }

    /// <summary>Sessions, messages and working sets.</summary>
    Sessions.ISessionRepository Sessions { get; }

    /// <summary>Compactions of sessions: their summaries and what they cover.</summary>
    Sessions.Compacting.ICompactionStore Compactions { get; }

    /// <summary>Idempotency keys with their responses.</summary>
    Sessions.IIdempotencyKeyStore IdempotencyKeys { get; }

    /// <summary>Corpora and who may read them.</summary>
    Corpora.ICorpusStore Corpora { get; }

    /// <summary>Tenants' documents.</summary>
    Corpora.IDocumentStore Documents { get; }

    /// <summary>What the compiler retrieves from.</summary>
    RetrievalSources Retrieval { get; }

    /// <summary>The web pages' Data Protection key ring.</summary>
    IKeyRingStore KeyRing { get; }

    /// <summary>
    /// Whether what the store keeps in memory for retrieval is loaded (SQLite's copy of the index); true for a store that
    /// keeps nothing. Readiness waits for it.
    /// </summary>
    bool TextIndexLoaded { get; }

    /// <summary>Loads what <see cref="TextIndexLoaded"/> waits for, so the first compile does not pay for it.</summary>
    void LoadTextIndex();

    /// <summary>
    /// Runs <paramref name="work"/> while no other holder of <paramref name="name"/> runs, across every process that
    /// shares the store (replicas starting together), so that start-up work (the purge, the first ingest) runs once:
    /// a caller that waited finds the work done and should check before doing it again.
    /// </summary>
    Task ExclusiveAsync(string name, Func<Task> work, CancellationToken cancellationToken);
}

/// <summary>What the compiler retrieves from, as a store provides it; the engine adds the query embedder and the tokenizers.</summary>
/// <param name="Lexical">The lexical retrievers by name (a stored manifest's <c>lexical</c> option picks one).</param>
/// <param name="Identity">The index's identity at compile time: model, version and vector coverage.</param>
public sealed record RetrievalSources(IReadOnlyList<ILexicalRetriever> Lexical, IVectorRetriever Vectors, ISpanCatalog Catalog, Func<IndexIdentity> Identity)
{
    /// <summary>
    /// Opens a scope in which every call above reads one state of the index, held for one compile; null (the default) when
    /// each reads the store as it is then.
    /// </summary>
    public Func<IDisposable>? ReadScope { get; init; }

    /// <summary>A compiler over these sources, embedding queries with <paramref name="queryEmbedder"/> and counting tokens with the assets' tokenizers.</summary>
    public WorkingSetCompiler Compiler(IEmbeddingGenerator<string, Embedding<float>> queryEmbedder, Assets.OfflineAssets assets) =>
        new(Lexical, Vectors, Catalog, queryEmbedder, assets.Tokenizer(), Identity, name => assets.Tokenizer(name), ReadScope);
}

/// <summary>
/// Finds the store a configuration names. Dependencies point one way (a store depends on the engine, never the reverse),
/// so the engine finds each store by its assembly's name: <c>sqlite</c> is the <see cref="IStoreProvider"/> in
/// <c>ContextCompiler.Storage.Sqlite</c> and <c>postgres</c> the one in <c>ContextCompiler.Storage.Postgres</c>; the host
/// ships them.
/// </summary>
public static class StoreProviders
{
    /// <summary>The default store: a SQLite file.</summary>
    public const string Sqlite = "sqlite";

    /// <summary>The provider named <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No store of that name, or its assembly is not deployed with the host.</exception>
    public static IStoreProvider Resolve(string? name)
    {
        string wanted = string.IsNullOrWhiteSpace(name) ? Sqlite : name.Trim().ToLowerInvariant();
        if (wanted.Length == 0 || !wanted.All(char.IsAsciiLetterOrDigit))
        {
            throw new ArgumentException($"ContextCompiler:Storage:Provider must be sqlite or postgres, not '{name}'.");
        }

        string assemblyName = "ContextCompiler.Storage." + char.ToUpperInvariant(wanted[0]) + wanted[1..];
        Assembly assembly;
        try
        {
            assembly = Assembly.Load(assemblyName);
        }
        catch (FileNotFoundException)
        {
            throw new ArgumentException($"ContextCompiler:Storage:Provider '{name}' names no store this host has (no {assemblyName} assembly); use sqlite or postgres.");
        }

        var type = assembly.GetExportedTypes().SingleOrDefault(t => t is { IsClass: true, IsAbstract: false } && typeof(IStoreProvider).IsAssignableFrom(t))
            ?? throw new ArgumentException($"{assemblyName} has no store provider.");
        var provider = (IStoreProvider)Activator.CreateInstance(type)!;
        return provider.Name == wanted ? provider : throw new ArgumentException($"{assemblyName} provides '{provider.Name}', not '{wanted}'.");
    }
}
