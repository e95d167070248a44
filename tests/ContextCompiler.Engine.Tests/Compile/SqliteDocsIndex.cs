using ContextCompiler.Core.Compile;
using ContextCompiler.Engine.Ingest;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Engine.Tests.Compile;

/// <summary>The real default corpus, ingested once into a temporary index shared by a test class.</summary>
public sealed class SqliteDocsIndex : IAsyncLifetime, IDisposable
{
    public SqliteDocsIndex()
    {
        Index = new TempIndex();
        CorpusFolder = Path.Combine(RepositoryRoot(), "corpora", "sqlite-docs");
        Compiler = CompilerFactory.Create(Index.Store, TempIndex.Assets.Embedder, TempIndex.Assets);
    }

    // xUnit awaits this before the first test of the class: a constructor cannot await the ingest.
    public async Task InitializeAsync() => await Index.Ingestor.IngestAsync([CorpusFolder], new IngestOptions());

    public Task DisposeAsync() => Task.CompletedTask;

    public TempIndex Index { get; }

    public string CorpusFolder { get; }

    public WorkingSetCompiler Compiler { get; }

    public static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "ContextCompiler.sln")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? throw new InvalidOperationException("Cannot find the repository root above " + AppContext.BaseDirectory);
    }

    public void Dispose() => Index.Dispose();
}
