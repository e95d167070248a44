using ContextCompiler.Engine.Corpora;
using ContextCompiler.Engine.Index;

namespace ContextCompiler.Storage.Postgres.Tests;

/// <summary>PostgresSpanIndex against a real PGlite: batches, re-ingests, deletes, vector status and the fillers' leases.</summary>
[Collection(MigratedCollection.Name)]
public sealed class SpanIndexTests(MigratedDatabase fixture)
{
    private readonly Stores _stores = new(fixture.Database);

    [PgliteFact]
    public void A_batch_is_written_whole_and_read_back_by_corpus()
    {
        _stores.Corpora.Create("idx-a", "notes");
        int before = _stores.Index.ArtifactCount();
        _stores.Index.Write([
            (Stores.Artifact("idx-op", "guide/wal.md", "write ahead log", "checkpoints run when the log grows"), null),
            (Stores.Artifact("idx-op", "guide/vacuum.md", "vacuum reclaims pages"), null),
            (Stores.Artifact("idx-a/notes", "mine.md", "a tenant's own note"), null),
        ]);

        Assert.Equal(before + 3, _stores.Index.ArtifactCount());
        var artifacts = _stores.Index.Artifacts("idx-op");
        Assert.Equal(["guide/vacuum.md", "guide/wal.md"], artifacts.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("test-chunking", artifacts["guide/wal.md"].Chunking);
        Assert.Equal(Stores.Artifact("idx-op", "guide/wal.md", "write ahead log", "checkpoints run when the log grows").ContentHash,
            artifacts["guide/wal.md"].ContentHash);
        Assert.NotEqual(artifacts["guide/wal.md"].Id, artifacts["guide/vacuum.md"].Id);
        var totals = _stores.Index.SpanTotals("idx-op");
        Assert.Equal((2L, 9L), totals["guide/wal.md"]);
        Assert.Equal((1L, 3L), totals["guide/vacuum.md"]);
        Assert.Equal(["mine.md"], _stores.Index.Artifacts("idx-a/notes").Keys);

        // The operator's corpus was registered by the write, shared and ownerless; the tenant's stayed its own.
        var op = Assert.Single(_stores.Corpora.All(), c => c.Key == "idx-op");
        Assert.Null(op.Tenant);
        Assert.True(op.Shared);
        Assert.Equal(2, op.Documents);
        Assert.Contains("idx-op", _stores.Corpora.Readable("someone-else"));
        Assert.DoesNotContain("idx-a/notes", _stores.Corpora.Readable("someone-else"));
    }

    [PgliteFact]
    public void A_batch_naming_a_tenant_corpus_that_does_not_exist_writes_nothing()
    {
        int before = _stores.Index.ArtifactCount();
        var e = Assert.Throws<CorpusNotFoundException>(() => _stores.Index.Write([
            (Stores.Artifact("idx-missing-op", "a.md", "first"), null),
            (Stores.Artifact("idx-nobody/docs", "b.md", "second"), null),
        ]));

        Assert.Contains("idx-nobody/docs", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, _stores.Index.ArtifactCount());
        // Rolled back with the rest: not even the operator corpus the batch would have registered.
        Assert.DoesNotContain(_stores.Corpora.All(), c => c.Key == "idx-missing-op");
    }

    [PgliteFact]
    public void A_reingest_replaces_the_artifact_and_its_spans()
    {
        var catalog = new PostgresSpanCatalog(fixture.Database);
        _stores.Index.Write([(Stores.Artifact("idx-re", "a.md", "one", "two", "three"), null)]);
        var first = _stores.Index.Artifacts("idx-re")["a.md"];
        var oldSpans = SpanIds("idx-re");
        Assert.Equal(3, oldSpans.Count);

        var second = Stores.Artifact("idx-re", "a.md", "only one span now");
        _stores.Index.Write([(second, first)]);

        var stored = _stores.Index.Artifacts("idx-re")["a.md"];
        Assert.NotEqual(first.Id, stored.Id);
        Assert.Equal(second.ContentHash, stored.ContentHash);
        Assert.Equal((1L, 4L), _stores.Index.SpanTotals("idx-re")["a.md"]);
        Assert.Empty(catalog.Get(oldSpans));
        var now = SpanIds("idx-re");
        Assert.Equal("only one span now", Assert.Single(catalog.Get(now)).Value.Text);

        // Replacing a version that is gone fails, and the batch with it.
        Assert.Throws<InvalidOperationException>(() => _stores.Index.Write([(Stores.Artifact("idx-re", "a.md", "again"), first)]));
        Assert.Equal(stored, _stores.Index.Artifacts("idx-re")["a.md"]);
    }

    [PgliteFact]
    public void Delete_removes_artifacts_with_their_spans_in_one_transaction()
    {
        _stores.Index.Write([(Stores.Artifact("idx-del", "a.md", "alpha"), null), (Stores.Artifact("idx-del", "b.md", "beta", "gamma"), null)]);
        var artifacts = _stores.Index.Artifacts("idx-del");
        var spans = SpanIds("idx-del");

        Assert.Throws<InvalidOperationException>(() => _stores.Index.Delete([artifacts["a.md"].Id, -42]));
        Assert.Equal(2, _stores.Index.Artifacts("idx-del").Count);

        Assert.Equal(2, _stores.Index.Delete([artifacts["a.md"].Id, artifacts["b.md"].Id]));
        Assert.Empty(_stores.Index.Artifacts("idx-del"));
        Assert.Empty(_stores.Index.SpanTotals("idx-del"));
        Assert.Empty(new PostgresSpanCatalog(fixture.Database).Get(spans));
        Assert.Equal(0, _stores.Index.Delete([]));
    }

    [PgliteFact]
    public async Task Two_replicas_filling_vectors_at_once_never_claim_the_same_span_and_fill_each_once()
    {
        await using var secondDatabase = await Stores.SecondReplicaAsync(fixture);
        var replicas = new[] { _stores.Index, new PostgresSpanIndex(secondDatabase, Stores.Model) };
        var before = replicas[0].VectorStatus();
        long after = MaxSpanId();
        _stores.Index.Write([.. Enumerable.Range(0, 8).Select(i =>
            ((PreparedArtifact, StoredArtifact?))(Stores.Artifact("idx-fill", $"f{i}.md", $"span {i} one", $"span {i} two", $"span {i} three", $"span {i} four", $"span {i} five"), null))]);
        var ours = SpanIds("idx-fill").ToHashSet();
        Assert.Equal(40, ours.Count);
        Assert.Equal(before.Total + 40, replicas[1].VectorStatus().Total);

        var claimed = new[] { new List<long>(), new List<long>() };
        var written = new int[2];
        await Task.WhenAll(Enumerable.Range(0, 2).Select(r => Task.Run(() =>
        {
            while (true)
            {
                var batch = replicas[r].SpansWithoutVectors(after, 3);
                if (batch.Count == 0)
                {
                    return;
                }

                Assert.Equal(batch.Select(p => p.Id).Order(), batch.Select(p => p.Id));
                Assert.All(batch, p => Assert.StartsWith("span ", p.Text, StringComparison.Ordinal));
                claimed[r].AddRange(batch.Select(p => p.Id));
                written[r] += replicas[r].WriteVectors([.. batch.Select(p => (p.Id, (ReadOnlyMemory<float>)Vector(p.Id)))]);
            }
        })));

        Assert.Empty(claimed[0].Intersect(claimed[1]));
        Assert.Equal(ours.Order(), claimed[0].Concat(claimed[1]).Order());
        Assert.Equal(40, written[0] + written[1]);
        var status = replicas[0].VectorStatus();
        Assert.Equal(before.Done + 40, status.Done);
        // A late filler's vectors for spans that already have one are not written again.
        Assert.Equal(0, replicas[1].WriteVectors([.. ours.Select(id => (id, (ReadOnlyMemory<float>)Vector(id + 1)))]));
        var stored = new PostgresVectorRetriever(fixture.Database).VectorsOf(ours);
        Assert.All(ours, id => Assert.Equal(Vector(id), stored[id]));
    }

    [PgliteFact]
    public async Task A_claim_whose_filler_died_is_taken_by_another_replica_once_its_lease_ends()
    {
        await using var secondDatabase = await Stores.SecondReplicaAsync(fixture);
        var dying = new PostgresSpanIndex(fixture.Database, Stores.Model, claimLease: TimeSpan.FromSeconds(1));
        var other = new PostgresSpanIndex(secondDatabase, Stores.Model);
        long after = MaxSpanId();
        _stores.Index.Write([(Stores.Artifact("idx-lease", "a.md", "first", "second", "third"), null)]);

        var taken = dying.SpansWithoutVectors(after, 2);
        Assert.Equal(2, taken.Count);
        // While the lease runs, the other replica gets only the span nobody holds.
        var rest = other.SpansWithoutVectors(after, 10);
        Assert.Equal("third", Assert.Single(rest).Text);
        Assert.Empty(other.SpansWithoutVectors(after, 10));

        await Task.Delay(TimeSpan.FromSeconds(2));
        var retaken = other.SpansWithoutVectors(after, 10);
        Assert.Equal(taken.Select(p => p.Id), retaken.Select(p => p.Id));
        Assert.Equal(2, other.WriteVectors([.. retaken.Select(p => (p.Id, (ReadOnlyMemory<float>)Vector(p.Id)))]));
        // The dead filler's batch, should it come back after all, writes nothing over them.
        Assert.Equal(0, dying.WriteVectors([.. taken.Select(p => (p.Id, (ReadOnlyMemory<float>)Vector(p.Id + 7)))]));
    }

    [PgliteFact]
    public void The_store_reports_its_provider_location_and_schema_version()
    {
        IStoreStatus status = _stores.Index;
        Assert.Equal("postgres", status.Provider);
        Assert.Equal(PostgresDatabase.Migrations.Count, status.SchemaVersion());
        Assert.Matches(@"^127\.0\.0\.1:\d+/postgres$", status.Location);
        Assert.Throws<ArgumentException>(() => new PostgresSpanIndex(fixture.Database, new EmbeddingModel("other", 768)));
    }

    internal static float[] Vector(long seed)
    {
        var vector = new float[PostgresSpanIndex.Dimensions];
        vector[(int)(seed % vector.Length)] = 1;
        vector[(int)((seed * 7 + 3) % vector.Length)] += 0.5f;
        return vector;
    }

    private List<long> SpanIds(string corpus)
    {
        var key = PostgresCorpusKeys.Parse(corpus);
        using var connection = fixture.Database.DataSource.OpenConnection();
        using var command = new Npgsql.NpgsqlCommand("SELECT id FROM spans WHERE tenant = $1 AND corpus = $2 ORDER BY id", connection);
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = key.Tenant });
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = key.Corpus });
        using var reader = command.ExecuteReader();
        var ids = new List<long>();
        while (reader.Read())
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    private long MaxSpanId()
    {
        using var connection = fixture.Database.DataSource.OpenConnection();
        using var command = new Npgsql.NpgsqlCommand("SELECT COALESCE(max(id), 0) FROM spans", connection);
        return (long)command.ExecuteScalar()!;
    }
}
