using Npgsql;

namespace ContextCompiler.Storage.Postgres.Tests;

/// <summary>BM25 and vector top-k on a real PGlite with pg_textsearch and pgvector, filtered by tenant and corpus.</summary>
[Collection(MigratedCollection.Name)]
public sealed class SearchTests(MigratedDatabase fixture)
{
    private readonly PostgresDatabase _database = fixture.Database;

    [PgliteFact]
    public async Task Bm25_ranks_the_span_with_the_query_words_first_and_keeps_to_the_tenant_and_corpora()
    {
        long wal = await Spans.InsertAsync(_database, "bm25-a", "docs", "wal.md", 0,
            "The write-ahead log journal mode: PRAGMA journal_mode=WAL makes readers and writers concurrent.");
        long vacuum = await Spans.InsertAsync(_database, "bm25-a", "docs", "vacuum.md", 0,
            "VACUUM rebuilds the database file and reclaims free pages; the journal is used while it runs.");
        await Spans.InsertAsync(_database, "bm25-a", "docs", "other.md", 0, "Foreign keys are checked at commit time.");
        // The same words in another corpus of the same tenant and in another tenant's corpus of the same name: never hits.
        long otherCorpus = await Spans.InsertAsync(_database, "bm25-a", "notes", "wal.md", 0, "write-ahead log journal mode WAL WAL WAL");
        var otherTenant = new List<long>();
        for (int i = 0; i < 30; i++)
        {
            // Many, and better matches than ours, so a filter applied only after the index's top k would lose our spans.
            otherTenant.Add(await Spans.InsertAsync(_database, "bm25-b", "docs", $"wal{i}.md", 0, "write-ahead log journal mode WAL WAL WAL"));
        }

        var search = new PostgresSpanSearch(_database.DataSource);
        var hits = await search.Bm25Async("write-ahead log journal mode", "bm25-a", ["docs"], 5);

        Assert.Equal([wal, vacuum], hits.Select(h => h.SpanId));
        Assert.All(hits, h => Assert.Equal("bm25-a", h.Tenant));
        Assert.True(hits[0].Score > hits[1].Score && hits[1].Score > 0, string.Join(", ", hits));

        // With both corpora, the other corpus's span (denser in the query words) comes in; still nothing of bm25-b.
        var both = await search.Bm25Async("write-ahead log journal mode", "bm25-a", ["docs", "notes"], 5);
        Assert.Contains(otherCorpus, both.Select(h => h.SpanId));
        Assert.DoesNotContain(both, h => otherTenant.Contains(h.SpanId));

        // Several tenants' corpora in one query (a tenant's own and a shared one of another owner).
        var mixed = await search.Bm25Async("write-ahead", [new CorpusRef("bm25-a", "docs"), new CorpusRef("bm25-b", "docs")], 100);
        Assert.Contains(wal, mixed.Select(h => h.SpanId));
        Assert.Equal(otherTenant.Order(), mixed.Select(h => h.SpanId).Where(otherTenant.Contains).Order());
    }

    [PgliteFact]
    public async Task Nearest_returns_the_closest_by_cosine_in_the_tenant_and_corpora()
    {
        // Unit-ish vectors leaning towards one axis each; the query leans towards axis 3.
        var ours = new Dictionary<int, long>();
        foreach (int axis in (int[])[1, 2, 3, 4, 5])
        {
            ours[axis] = await Spans.InsertAsync(_database, "vec-a", "docs", $"d{axis}.md", 0, $"span {axis}", Towards(axis));
        }

        long noVector = await Spans.InsertAsync(_database, "vec-a", "docs", "pending.md", 0, "not embedded yet");
        // The query's exact vector, in another corpus and in another tenant: never returned.
        long otherCorpus = await Spans.InsertAsync(_database, "vec-a", "notes", "d3.md", 0, "same", Towards(3, noise: 0));
        long otherTenant = await Spans.InsertAsync(_database, "vec-b", "docs", "d3.md", 0, "same", Towards(3, noise: 0));

        var search = new PostgresSpanSearch(_database.DataSource, new PostgresSearchOptions { EfSearch = 64 });
        var hits = await search.NearestAsync(Towards(3, noise: 0), "vec-a", ["docs"], 3);

        Assert.Equal(3, hits.Count);
        Assert.Equal(ours[3], hits[0].SpanId);
        Assert.DoesNotContain(hits, h => h.SpanId == otherCorpus || h.SpanId == otherTenant || h.SpanId == noVector);
        double expected = Cosine(Towards(3), Towards(3, noise: 0));
        Assert.Equal(expected, hits[0].Score, 5);
        Assert.True(hits[0].Score > hits[1].Score && hits[1].Score >= hits[2].Score, string.Join(", ", hits));

        var all = await search.NearestAsync(Towards(3, noise: 0), [new CorpusRef("vec-a", "docs"), new CorpusRef("vec-a", "notes")], 10);
        Assert.Equal(otherCorpus, all[0].SpanId);
        Assert.Equal(1.0, all[0].Score, 5);
        Assert.Equal(6, all.Count);
    }

    [PgliteFact]
    public async Task Through_the_hnsw_index_another_tenants_nearer_vectors_do_not_crowd_out_a_tenants_own()
    {
        var ours = new List<long>();
        foreach (int axis in (int[])[10, 11, 12])
        {
            ours.Add(await Spans.InsertAsync(_database, "hnsw-a", "docs", $"d{axis}.md", 0, "ours", Towards(axis)));
        }

        for (int i = 0; i < 40; i++)
        {
            await Spans.InsertAsync(_database, "hnsw-b", "docs", $"near{i}.md", 0, "theirs", Towards(20, noise: 0.05 + i * 0.02));
        }

        var search = new PostgresSpanSearch(_database.DataSource, new PostgresSearchOptions { EfSearch = 10 });
        object[] parameters = [new Pgvector.Vector(Towards(20, noise: 0)), new[] { "hnsw-a" }, new[] { "docs" }, 3];
        var (plan, rows) = await RunThroughIndexAsync(PostgresSpanSearch.NearestSql, parameters, search);
        Assert.True(plan.Any(line => line.Contains("spans_embedding_hnsw", StringComparison.Ordinal)), string.Join("\n", plan));
        // ef_search 10 finds only the other tenant's 40 nearer vectors; the iterative scan goes on to ours.
        Assert.Equal(ours.Order(), rows.Select(r => r.Id).Order());
        Assert.Equal(rows.Select(r => r.Value).Order(), rows.Select(r => r.Value));

        var plain = new PostgresSpanSearch(_database.DataSource, new PostgresSearchOptions { EfSearch = 10, IterativeScan = "off" });
        var (_, crowded) = await RunThroughIndexAsync(PostgresSpanSearch.NearestSql, parameters, plain);
        Assert.True(crowded.Count < 3, "without the iterative scan the filter should have left fewer than k: why the option exists");
    }

    [PgliteFact]
    public async Task Through_the_bm25_index_another_tenants_better_matches_do_not_crowd_out_a_tenants_own()
    {
        long first = await Spans.InsertAsync(_database, "bm25f-a", "docs", "a.md", 0, "checkpoint the write-ahead log now");
        long second = await Spans.InsertAsync(_database, "bm25f-a", "docs", "b.md", 0, "a checkpoint happens when the log grows past a size limit, and readers wait");
        for (int i = 0; i < 30; i++)
        {
            await Spans.InsertAsync(_database, "bm25f-b", "docs", $"c{i}.md", 0, "checkpoint checkpoint log log");
        }

        var (plan, rows) = await RunThroughIndexAsync(PostgresSpanSearch.Bm25Sql,
            ["checkpoint log", new[] { "bm25f-a" }, new[] { "docs" }, 2], new PostgresSpanSearch(_database.DataSource));
        Assert.True(plan.Any(line => line.Contains("spans_bm25", StringComparison.Ordinal)), string.Join("\n", plan));
        Assert.Equal([first, second], rows.Select(r => r.Id));
    }

    // Runs one of PostgresSpanSearch's queries with its settings, but with sequential scans and sorts priced out, so that
    // even on these small tables the planner takes the ordered index scan a large table gets. Returns the plan and rows.
    private async Task<(List<string> Plan, List<(long Id, double Value)> Rows)> RunThroughIndexAsync(string sql, object[] parameters,
        PostgresSpanSearch search)
    {
        await using var connection = await _database.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await search.ApplyVectorSettingsAsync(connection, transaction, CancellationToken.None);
        await using (var off = new NpgsqlCommand("SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off", connection, transaction))
        {
            await off.ExecuteNonQueryAsync();
        }

        var plan = new List<string>();
        var rows = new List<(long, double)>();
        foreach (bool explain in (bool[])[true, false])
        {
            await using var command = new NpgsqlCommand((explain ? "EXPLAIN " : "") + sql, connection, transaction);
            foreach (object value in parameters)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = value });
            }

            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                if (explain)
                {
                    plan.Add(reader.GetString(0));
                }
                else
                {
                    rows.Add((reader.GetInt64(1), reader.GetDouble(2)));
                }
            }
        }

        return (plan, rows);
    }

    private static float[] Towards(int axis, double noise = 0.3)
    {
        var vector = new float[384];
        for (int i = 0; i < vector.Length; i++)
        {
            // Deterministic noise: the same vector for the same axis every run.
            vector[i] = (float)(noise * Math.Sin((i + 1) * (axis + 1) * 0.7) / 10);
        }

        vector[axis] += 1;
        return vector;
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += a[i] * (double)b[i];
            na += a[i] * (double)a[i];
            nb += b[i] * (double)b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }
}
