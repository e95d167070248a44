using System.Text.Json;
using ContextCompiler.Cli.Commands;
using ContextCompiler.Core.Tokenization;
using ContextCompiler.Engine;
using ContextCompiler.Engine.Corpora;
using ContextCompiler.Engine.Embedding;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Ingest;
using ContextCompiler.Engine.Sessions;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Pgvector;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Storage.Postgres.Tests.Copy;

/// <summary>
/// <c>contextc copy</c> from a real SQLite index (MiniLM vectors, a tenant's uploaded document, a session with turns) into
/// a fresh PGlite database of its own, and what the PostgreSQL store then serves.
/// </summary>
public sealed class CopyTests(PgliteServer server) : IClassFixture<PgliteServer>, IDisposable
{
    private const string Model = EmbedderCatalog.DefaultModel;
    private static readonly string SharedCache = Path.Combine(Path.GetTempPath(), "contextc-test-embedding-cache.db");
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("contextc-copy-");

    private string DatabasePath => Path.Combine(_folder.FullName, "index.db");

    [PgliteFact]
    public async Task Everything_moves_verified_and_the_postgres_store_serves_it_identically()
    {
        string sessionId;
        string replayed;
        IReadOnlyDictionary<long, byte[]> vectors;
        string document;
        using (var sqlite = Engine(new ContextCompilerOptions { DatabasePath = DatabasePath, EmbeddingModel = Model, EmbeddingCachePath = SharedCache }))
        {
            (sessionId, document) = await FillAsync(sqlite);
            replayed = Replay(sqlite, sessionId);
            using var connection = SqliteStore.Of(sqlite).Index.OpenConnection();
            vectors = IndexReader.Vectors(connection);
        }

        var copy = await Contextc.RunAsync(CopyCommand.Create(), "copy", "--db", DatabasePath, "--to", "postgres", "--to-connection-string", server.ConnectionString);

        Assert.True(copy.Exit == 0, copy.Output + copy.Error);
        Assert.Equal("verified", copy.Output.TrimEnd().Split('\n')[^1]);
        foreach (string table in new[] { "corpora", "documents", "spans", "sessions", "messages", "turn_budgets", "idempotency_keys" })
        {
            // Each table's line: the same non-zero count on both sides, and an equal hash.
            var line = copy.Output.Split('\n').Single(l => l.StartsWith(table + " ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(line[1], line[2]);
            Assert.NotEqual("0", line[1]);
            Assert.Equal("=", line[4]);
        }

        using (var postgres = Engine(new ContextCompilerOptions
        {
            DatabasePath = DatabasePath,
            EmbeddingModel = Model,
            EmbeddingCachePath = SharedCache,
            Storage = new StorageOptions { Provider = "postgres", ConnectionString = server.ConnectionString },
        }))
        {
            Assert.Equal(replayed, Replay(postgres, sessionId));
            Assert.Equal(document, postgres.GetRequiredService<IDocumentStore>().Get("t", "notes", "notes/wal.md").Text);
            var status = postgres.GetRequiredService<ISpanIndex>().VectorStatus();
            Assert.True(status.Complete, status.ToString());
            Assert.Equal(vectors.Count, status.Total);
            Assert.Equal(vectors.OrderBy(p => p.Key), (await PostgresVectorsAsync()).OrderBy(p => p.Key), new VectorBytesComparer());
        }

        // The target holds data now: a second copy is refused as a conflict, and writes nothing.
        var again = await Contextc.RunAsync(CopyCommand.Create(), "copy", "--db", DatabasePath, "--to", "postgres", "--to-connection-string", server.ConnectionString);
        Assert.Equal(ExitCodes.Conflict, again.Exit);
        Assert.Contains("not empty", again.Error, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _folder.Delete(recursive: true);
    }

    // A clock on whole microseconds: PostgreSQL keeps no finer, so the SQLite rows' times then move without being cut and
    // the two stores' replays can be compared byte for byte.
    private static ServiceProvider Engine(ContextCompilerOptions options) =>
        new ServiceCollection()
            .AddSingleton<TimeProvider>(new MicrosecondClock())
            .AddContextCompiler(options)
            .BuildServiceProvider();

    private static string Replay(ServiceProvider engine, string sessionId) =>
        JsonSerializer.Serialize(engine.GetRequiredService<SessionStore>().Replay("t", sessionId), SessionJson.Options);

    /// <summary>Three files of the default corpus, a tenant's uploaded document, vectors for all, and a session of two turns.</summary>
    private async Task<(string SessionId, string Document)> FillAsync(ServiceProvider engine)
    {
        var corpus = ContextCompiler.Engine.Assets.RepositoryLayout.DefaultCorpus() ?? throw new InvalidOperationException("corpora/sqlite-docs is missing");
        var sources = Directory.CreateDirectory(Path.Combine(_folder.FullName, "sqlite-docs")).FullName;
        foreach (var file in new[] { "wal.md", "pragma.md", "lang_transaction.md" })
        {
            File.Copy(Path.Combine(corpus, file), Path.Combine(sources, file));
        }

        var index = engine.GetRequiredService<ISpanIndex>();
        var passages = engine.GetRequiredService<IndexEmbedder>().Passages;
        await new CorpusIngestor(index, engine.GetRequiredService<ITokenizer>(), passages).IngestAsync([sources], new IngestOptions());

        engine.GetRequiredService<ICorpusStore>().Create("t", "notes");
        string document = "# Notes on WAL\n\nCheckpoints move pages back — naïvely put, \ud83d\ude00 and a tab\there.\n";
        engine.GetRequiredService<IDocumentStore>().Put("t", "notes", "notes/wal.md", document, "text/markdown");
        await new VectorIndexer(index, passages).FillAsync();

        var sessions = engine.GetRequiredService<SessionStore>();
        var turns = engine.GetRequiredService<TurnService>();
        using var metadata = JsonDocument.Parse("""{"b": 1, "a": "\u0000"}""");
        var session = sessions.Create("t", new NewSession("user\u0000one", metadata.RootElement.Clone(), new SessionBudgets(300, 100)),
            new IdempotencyClaim<Session>("create-1", "fingerprint", TimeSpan.FromHours(1), s => new StoredResponse(201, $"{{\"id\":\"{s.Id}\"}}\0", "/sessions/" + s.Id)));
        await turns.TakeTurnAsync("t", session.Id, new TurnRequest("How do I turn on write-ahead logging?\0 (and checkpoints)", new SessionBudgets(200, 100)));
        await sessions.AddMessageAsync("t", session.Id, MessageRoles.Assistant, "Set the journal mode [1]. Also [42].", null);
        await turns.TakeTurnAsync("t", session.Id, new TurnRequest("Does it stay on?", new SessionBudgets(TotalBudget: 400)));
        return (session.Id, document);
    }

    private async Task<Dictionary<long, byte[]>> PostgresVectorsAsync()
    {
        await using var database = server.NewDatabase();
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var select = new NpgsqlCommand("SELECT id, embedding FROM spans", connection, transaction);
        await using var reader = await select.ExecuteReaderAsync();
        var vectors = new Dictionary<long, byte[]>();
        while (await reader.ReadAsync())
        {
            vectors[reader.GetInt64(0)] = System.Runtime.InteropServices.MemoryMarshal.AsBytes(reader.GetFieldValue<Vector>(1).ToArray().AsSpan()).ToArray();
        }

        return vectors;
    }

    private sealed class MicrosecondClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => PostgresTime.Truncate(base.GetUtcNow());
    }

    private sealed class VectorBytesComparer : IEqualityComparer<KeyValuePair<long, byte[]>>
    {
        public bool Equals(KeyValuePair<long, byte[]> x, KeyValuePair<long, byte[]> y) => x.Key == y.Key && x.Value.AsSpan().SequenceEqual(y.Value);

        public int GetHashCode(KeyValuePair<long, byte[]> pair) => pair.Key.GetHashCode();
    }
}
