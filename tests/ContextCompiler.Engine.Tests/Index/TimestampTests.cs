using ContextCompiler.Core.Ingest;
using ContextCompiler.Engine.Corpora;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Ingest;
using ContextCompiler.Engine.Sessions;
using Microsoft.Extensions.DependencyInjection;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Engine.Tests.Index;

/// <summary>Every stored time comes from the one injected clock and is written in the one format of <see cref="Timestamps"/>.</summary>
public sealed class TimestampTests : IDisposable
{
    // Years before the machine's own clock: a row stamped with the system clock instead of the injected one stands out.
    private static readonly DateTimeOffset Start = new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(1234567);

    private readonly TempIndex _index = new();

    [Fact]
    public async Task Every_table_stores_the_injected_clock_in_the_one_format()
    {
        var clock = new ManualClock(Start);
        var path = Path.Combine(_index.Root, "clocked.db");
        using var engine = Engine(path, clock);
        var store = SqliteStore.Of(engine).Index;
        _index.Write("a.md", "# A\n\nWrite-ahead logging keeps readers and writers apart.\n");
        await new CorpusIngestor(store, TempIndex.Assets.Tokenizer()).IngestAsync([_index.Sources], new IngestOptions { Corpus = "ops" });
        engine.GetRequiredService<ICorpusStore>().Create("t", "mine");
        engine.GetRequiredService<IDocumentStore>().Put("t", "mine", "b.md", "# B\n\nSome text.\n", "text/markdown");
        var session = engine.GetRequiredService<SessionStore>().Create("t", new NewSession("u"),
            new IdempotencyClaim<Session>("key-1", "fingerprint", TimeSpan.FromHours(1), s => new StoredResponse(201, "{}", null)));
        await engine.GetRequiredService<SessionStore>().AddMessageAsync("t", session.Id, MessageRoles.Assistant, "Hello.", null);

        string expected = Timestamps.Format(Start);
        Assert.Equal("2020-01-02T03:04:05.1234567Z", expected);
        using var connection = store.OpenConnection();
        foreach (var (table, column) in new[]
        {
            ("schema_version", "applied_at"), ("artifacts", "ingested_at"), ("corpora", "created_at"), ("sessions", "created_at"),
            ("sessions", "updated_at"), ("messages", "created_at"), ("idempotency_keys", "created_at"),
        })
        {
            var stored = Column(connection, table, column);
            Assert.NotEmpty(stored);
            Assert.All(stored, value => Assert.Equal(expected, value));
        }

        Assert.Equal([Timestamps.Format(Start.AddHours(1))], Column(connection, "idempotency_keys", "expires_at"));
    }

    [Fact]
    public void Migration_7_rewrites_times_stored_in_the_old_formats()
    {
        using (var connection = _index.Store.OpenConnection())
        {
            // The index as schema 6 left it (without migration 8's table or 9's column and table): round-trip ("O")
            // times with an offset, and migration 5's millisecond times.
            IndexStore.Execute(connection, """
                DELETE FROM schema_version WHERE version >= 7;
                DROP TABLE data_protection_keys;
                DROP TABLE compactions;
                ALTER TABLE sessions DROP COLUMN compaction;
                UPDATE schema_version SET applied_at = '2026-11-30T10:00:00.0000001+00:00';
                INSERT INTO artifacts (corpus, path, kind, content_hash, chunking, content, bytes, ingested_at) VALUES
                    ('old', 'utc.md', 'markdown', 'h1', 'c', 'x', 1, '2026-11-30T10:11:12.1234567+00:00'),
                    ('old', 'east.md', 'markdown', 'h2', 'c', 'x', 1, '2026-12-01T01:30:00.5000000+02:00'),
                    ('old', 'new.md', 'markdown', 'h3', 'c', 'x', 1, '2026-11-30T10:11:12.7654321Z');
                INSERT INTO corpora (key, name, tenant, shared, created_at) VALUES ('old', 'old', NULL, 1, '2026-11-30T10:11:12.345Z');
                """);
        }

        using var reopened = IndexStore.Open(_index.DatabasePath, TempIndex.Assets.Vec0Path, TempIndex.Model);

        using var check = reopened.OpenConnection();
        Assert.Equal(
            ["2026-11-30T10:11:12.1234567Z", "2026-11-30T23:30:00.5000000Z", "2026-11-30T10:11:12.7654321Z"],
            Column(check, "artifacts", "ingested_at", "corpus = 'old' ORDER BY id"));
        Assert.Equal(["2026-11-30T10:11:12.3450000Z"], Column(check, "corpora", "created_at", "key = 'old'"));
        Assert.All(Column(check, "schema_version", "applied_at", "version < 7"), value => Assert.Equal("2026-11-30T10:00:00.0000001Z", value));
        // Every reader parses them again.
        Assert.Contains(new CorpusStore(reopened, new CorpusLimits()).All(), c => c.Key == "old" && c.CreatedAt == new DateTimeOffset(2026, 11, 30, 10, 11, 12, 345, TimeSpan.Zero));
    }

    [Theory]
    [InlineData(-1, false)]
    [InlineData(1, true)]
    public async Task A_recompile_calls_a_citation_changed_only_when_its_document_was_written_after_the_turn(int hoursAfterTurn, bool changed)
    {
        var clock = new ManualClock(Start);
        var path = Path.Combine(_index.Root, "recompile.db");
        using var engine = Engine(path, clock);
        var ingestor = new CorpusIngestor(SqliteStore.Of(engine).Index, TempIndex.Assets.Tokenizer());
        const string Text = "# WAL\n\nWrite-ahead logging lets readers continue while a writer commits.\n";
        _index.Write("wal.md", Text);
        await ingestor.IngestAsync([_index.Sources], new IngestOptions());

        // The turn is taken two hours after the first ingest; the document is written again before or after it.
        var sessions = engine.GetRequiredService<SessionStore>();
        var session = sessions.Create("t", new NewSession());
        clock.Advance(TimeSpan.FromHours(2));
        if (hoursAfterTurn < 0)
        {
            clock.Advance(TimeSpan.FromHours(hoursAfterTurn));
            _index.Write("wal.md", Text + "\nEdited before the turn.\n");
            await ingestor.IngestAsync([_index.Sources], new IngestOptions());
            clock.Advance(TimeSpan.FromHours(-hoursAfterTurn));
        }

        await engine.GetRequiredService<TurnService>().TakeTurnAsync("t", session.Id, new TurnRequest("How does write-ahead logging work?", new SessionBudgets(200, 100)));
        if (hoursAfterTurn > 0)
        {
            clock.Advance(TimeSpan.FromHours(hoursAfterTurn));
            _index.Write("wal.md", Text + "\nEdited after the turn.\n");
            await ingestor.IngestAsync([_index.Sources], new IngestOptions());
        }

        var report = await engine.GetRequiredService<SessionRecompiler>().RecompileAsync("t", session.Id, new RecompileRequest());

        var turn = Assert.Single(report.Turns);
        Assert.NotEqual(0, turn.StoredCitations);
        if (changed)
        {
            Assert.Contains(turn.StaleCitations, s => s.Path == "wal.md" && s.State == "changed");
        }
        else
        {
            Assert.Empty(turn.StaleCitations);
        }
    }

    public void Dispose() => _index.Dispose();

    private static ServiceProvider Engine(string path, TimeProvider clock) =>
        new ServiceCollection()
            .AddSingleton(clock)
            .AddSingleton(TempIndex.Embedders)
            .AddContextCompiler(new ContextCompilerOptions { DatabasePath = path, EmbeddingModel = TempIndex.Model.Id })
            .BuildServiceProvider();

    private static List<string> Column(Microsoft.Data.Sqlite.SqliteConnection connection, string table, string column, string where = "1")
    {
        using var select = connection.CreateCommand();
        select.CommandText = $"SELECT {column} FROM {table} WHERE {where}";
        using var reader = select.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }
}
