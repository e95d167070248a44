using ContextCompiler.Engine.Corpora;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Sessions;
using ContextCompiler.Engine.Stores;
using Microsoft.Extensions.DependencyInjection;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Engine.Tests.Stores;

/// <summary>The one place a store is chosen: <c>ContextCompiler:Storage:Provider</c>, resolved by name when the engine is first used.</summary>
public sealed class StoreProviderTests : IDisposable
{
    private readonly TempIndex _index = new();

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("sqlite")]
    [InlineData(" SQLite ")]
    public void Sqlite_is_the_default_and_is_found_by_name_in_any_case(string? name) =>
        Assert.IsType<SqliteStoreProvider>(StoreProviders.Resolve(name));

    [Theory]
    [InlineData("mysql", "no store this host has")]
    [InlineData("../sqlite", "must be sqlite or postgres")]
    [InlineData("ContextCompiler.Engine", "must be sqlite or postgres")]
    public void An_unknown_provider_is_refused_with_a_reason(string name, string reason)
    {
        var error = Assert.Throws<ArgumentException>(() => StoreProviders.Resolve(name));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_engine_runs_every_seam_on_the_configured_sqlite_file()
    {
        string file = Path.Combine(Path.GetDirectoryName(_index.DatabasePath)!, "chosen.db");
        using var engine = new ServiceCollection()
            .AddContextCompiler(new ContextCompilerOptions
            {
                DatabasePath = _index.DatabasePath,
                EmbeddingModel = TempIndex.Model.Id,
                Storage = new StorageOptions { Provider = "sqlite", ConnectionString = $"Data Source={file}" },
            })
            .BuildServiceProvider();

        var store = engine.GetRequiredService<IStore>();
        Assert.Equal("sqlite", engine.GetRequiredService<IStoreStatus>().Provider);
        Assert.Equal(Path.GetFullPath(file), engine.GetRequiredService<IStoreStatus>().Location);
        Assert.Same(store.SpanIndex, engine.GetRequiredService<ISpanIndex>());
        Assert.Same(store.Sessions, engine.GetRequiredService<ISessionRepository>());
        Assert.Same(store.Corpora, engine.GetRequiredService<ICorpusStore>());
        Assert.Same(store.Documents, engine.GetRequiredService<IDocumentStore>());
        Assert.Same(store.IdempotencyKeys, engine.GetRequiredService<IIdempotencyKeyStore>());
        Assert.True(File.Exists(file));

        // A session written through the engine is in that file.
        engine.GetRequiredService<SessionStore>().Create("t", new NewSession());
        using var reopened = new ServiceCollection()
            .AddContextCompiler(new ContextCompilerOptions { DatabasePath = file, EmbeddingModel = TempIndex.Model.Id })
            .BuildServiceProvider();
        Assert.Equal(1, reopened.GetRequiredService<ISessionRepository>().List("t", new SessionQuery()).Total);
    }

    [Fact]
    public void A_misconfigured_provider_fails_when_the_engine_is_first_used_naming_it()
    {
        using var engine = new ServiceCollection()
            .AddContextCompiler(new ContextCompilerOptions { DatabasePath = _index.DatabasePath, Storage = new StorageOptions { Provider = "oracle" } })
            .BuildServiceProvider();
        var error = Assert.Throws<ArgumentException>(() => engine.GetRequiredService<SessionStore>());
        Assert.Contains("'oracle'", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _index.Dispose();
}
