using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Ingest;
using ContextCompiler.Engine.Index;
using ContextCompiler.Storage.Sqlite;
using Microsoft.Extensions.AI;

namespace ContextCompiler.Engine.Tests.Compile;

/// <summary>A compile over the SQLite store reads one in-memory snapshot for all its retrieval.</summary>
public sealed class SnapshotPerCompileTests : IAsyncLifetime, IDisposable
{
    private readonly TempIndex _index = new();

    public async Task InitializeAsync()
    {
        _index.Write("wal.md", "# WAL\n\nThe write-ahead log journal mode lets readers continue while one writer commits.\n");
        _index.Write("locks.md", "# Locks\n\nA busy timeout makes a connection wait for the journal lock.\n");
        _index.Write("vacuum.md", "# Vacuum\n\nVACUUM rebuilds the database file into a new journal-free copy.\n");
        await _index.IngestAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _index.Dispose();

    [Fact]
    public async Task A_compile_asks_sqlite_for_the_generation_once()
    {
        var compiler = CompilerFactory.Create(_index.Store, TempIndex.Assets.Embedder, TempIndex.Assets);
        await compiler.CompileAsync(new CompileRequest("journal", 500)); // loads the copy
        // Both retrievers, MMR (which reads the candidates' vectors) and the manifest's identity.
        var options = new CompilerOptions { MmrLambda = 0.7 };
        long before = _index.Store.GenerationReads;

        for (int i = 0; i < 5; i++)
        {
            await compiler.CompileAsync(new CompileRequest("journal lock", 500, Options: options));
        }

        await compiler.RetrieveAsync(new CompileRequest("journal lock", 500, Options: options));
        Assert.Equal(6, _index.Store.GenerationReads - before);
    }

    [Fact]
    public async Task A_write_landing_during_a_compile_is_seen_by_none_of_it_and_by_the_next_compile()
    {
        var snapshots = new IndexSnapshotCache(_index.Store);
        long generation = snapshots.Current().Generation;
        // The query is embedded between the lexical and the vector search: the write lands there, with the query's own
        // vector and words, and the copy is refreshed as a document PUT would.
        var embedder = new WritingEmbedder(TempIndex.Assets.Embedder, vector =>
        {
            var chunk = new Chunk(1, 1, "", "journal lock journal lock", 4);
            _index.Store.Write([(new PreparedArtifact("late", "late.md", SourceKind.Text, "late-hash", "test", chunk.Text, chunk.Text.Length, [chunk]), null)]);
            _index.Store.WriteVectors([.. _index.Store.SpansWithoutVectors(0, int.MaxValue).Select(p => (p.Id, vector))]);
            snapshots.Refresh();
        });
        var compiler = CompilerFactory.Create(_index.Store, embedder, TempIndex.Assets, snapshots);

        var during = await compiler.CompileAsync(new CompileRequest("journal lock", 1000));
        var after = await compiler.CompileAsync(new CompileRequest("journal lock", 1000));

        Assert.DoesNotContain(during.Citations, c => c.Path == "late.md");
        Assert.EndsWith($"generation {generation}", during.Manifest.IndexVersion);
        Assert.Contains(after.Citations, c => c.Path == "late.md");
        Assert.EndsWith($"generation {snapshots.Current().Generation}", after.Manifest.IndexVersion);
    }

    // Runs a write the first time it embeds a query, after embedding it.
    private sealed class WritingEmbedder(IEmbeddingGenerator<string, Embedding<float>> inner, Action<ReadOnlyMemory<float>> write)
        : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner)
    {
        private bool _written;

        public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
            IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            var embeddings = await base.GenerateAsync(values, options, cancellationToken);
            if (!_written)
            {
                _written = true;
                write(embeddings[0].Vector);
            }

            return embeddings;
        }
    }
}
