using ContextCompiler.Core.Retrieve;
using ContextCompiler.Engine.Corpora;
using Npgsql;

namespace ContextCompiler.Storage.Postgres.Tests;

/// <summary>
/// A bulk load refreshes the span table's planner statistics, so that a lexical search reads the bm25 index in score
/// order instead of scoring every span of the corpus (which took 1.45 s for 9,181 spans on PGlite without them).
/// </summary>
[Collection(MigratedCollection.Name)]
public sealed class PlannerStatisticsTests(MigratedDatabase fixture)
{
    private readonly Stores _stores = new(fixture.Database);

    [PgliteFact]
    public async Task A_bulk_ingest_analyzes_the_span_table_and_bm25_reads_its_index()
    {
        const int Spans = PostgresDatabase.AnalyzeAfterSpans + 200;
        string corpus = "bulk-" + Guid.NewGuid().ToString("N")[..8];
        // 100 artifacts of 12 spans: words shared by all, and one rare word per artifact.
        var batch = Enumerable.Range(0, Spans / 12).Select(a => (Stores.Artifact(corpus, $"page{a}.md",
            [.. Enumerable.Range(0, 12).Select(s => $"lighthouse keeper {(s == 3 ? "zephyrine" + a : "lamp")} number {a} span {s}")]), (Engine.Index.StoredArtifact?)null)).ToList();

        _stores.Index.Write(batch);

        Assert.True(await ScalarAsync<float>("SELECT reltuples FROM pg_class WHERE oid = 'spans'::regclass") >= Spans);
        var readable = _stores.Corpora.ReadableFilter("nobody") with { Corpus = corpus };
        var hits = new PostgresLexicalRetriever(fixture.Database).Search(new LexicalRequest("zephyrine42 lighthouse", readable, 5, new LexicalWeights(), new Bm25Parameters()));
        Assert.Equal("page42.md", hits[0].Key.Path);

        // The retriever's own query shape: with statistics the planner reads the bm25 index in score order.
        string plan = await PlanAsync(corpus);
        Assert.Contains("spans_bm25", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("Sort Key", plan, StringComparison.Ordinal);
    }

    private async Task<string> PlanAsync(string corpus)
    {
        await using var connection = new NpgsqlConnection(fixture.Server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            EXPLAIN SELECT s.id FROM spans s
            WHERE (s.tenant, s.corpus) IN (SELECT t, c FROM unnest($1::text[], $2::text[]) AS r(t, c))
            ORDER BY s.text <@> to_bm25query('zephyrine42 lighthouse', 'spans_bm25') LIMIT 40
            """, connection);
        command.Parameters.AddWithValue(new[] { "" });
        command.Parameters.AddWithValue(new[] { corpus });
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(reader.GetString(0));
        }

        return string.Join("\n", lines);
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(fixture.Server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
