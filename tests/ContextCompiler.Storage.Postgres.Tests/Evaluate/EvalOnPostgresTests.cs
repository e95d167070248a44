using ContextCompiler.Core.Evaluate;
using ContextCompiler.Engine;
using ContextCompiler.Engine.Assets;
using ContextCompiler.Engine.Embedding;
using ContextCompiler.Engine.Evaluate;
using ContextCompiler.Engine.Stores;
using Npgsql;

namespace ContextCompiler.Storage.Postgres.Tests.Evaluate;

/// <summary>
/// <c>contextc eval</c>'s runner on the PostgreSQL store: it ingests, ranks and compiles in a schema of its own, reaches
/// SQLite's measures on the same set, and leaves the database as it found it.
/// </summary>
[Collection(MigratedCollection.Name)]
public sealed class EvalOnPostgresTests(MigratedDatabase fixture) : IDisposable
{
    private static readonly string SharedCache = Path.Combine(Path.GetTempPath(), "contextc-test-embedding-cache.db");
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("contextc-pg-eval-");
    private readonly EmbedderCatalog _embedders = new(OfflineAssets.Default, SharedCache);

    public void Dispose()
    {
        _embedders.Dispose();
        _folder.Delete(recursive: true);
    }

    [PgliteFact]
    public async Task A_beir_set_scores_as_on_sqlite_and_the_temporary_schema_is_dropped()
    {
        var dataset = DatasetReader.Read(WriteBeirSet());
        long publicSpans = await CountAsync("SELECT count(*) FROM public.spans");
        var settings = new EvalSettings { Strategies = "default,bm25,vector", Budgets = [200, 1000] };

        var sqlite = await new EvalRunner(OfflineAssets.Default, _embedders).RunAsync(dataset, settings);
        var postgres = await new EvalRunner(OfflineAssets.Default, _embedders, new StorageOptions { Provider = "postgres", ConnectionString = fixture.Server.ConnectionString })
            .RunAsync(dataset, settings);

        Assert.Contains("Store: postgres, a temporary one removed after the run.", postgres.Report.Notes);
        Assert.Contains("Store: sqlite, a temporary one removed after the run.", sqlite.Report.Notes);
        Assert.Equal((sqlite.Report.Documents, sqlite.Report.Spans), (postgres.Report.Documents, postgres.Report.Spans));
        foreach (var (onSqlite, onPostgres) in sqlite.Report.Strategies.Zip(postgres.Report.Strategies))
        {
            Assert.Equal(onSqlite.Name, onPostgres.Name);
            Assert.True(onPostgres.NdcgAt10 > 0.5, $"{onPostgres.Name}: nDCG@10 {onPostgres.NdcgAt10}");
            Assert.Equal(onSqlite.NdcgAt10!.Value, onPostgres.NdcgAt10!.Value, 0.1);
            Assert.Equal(onSqlite.Budgets.Select(b => b.EvidenceRecall), onPostgres.Budgets.Select(b => b.EvidenceRecall), (a, b) => Math.Abs(a - b) <= 0.34);
        }

        // Every query's relevant document comes first with the default strategy, on both stores.
        Assert.All(((RetrievalDataset)dataset).Queries, q => Assert.True(
            postgres.Run![q.Id][0].DocId == q.Relevant.Single(),
            $"{q.Id}: postgres {string.Join(" ", postgres.Run[q.Id].Select(d => $"{d.DocId}:{d.Score:F3}"))}; sqlite {string.Join(" ", sqlite.Run![q.Id].Select(d => $"{d.DocId}:{d.Score:F3}"))}"));
        Assert.Equal("", await NamesAsync());
        Assert.Equal(publicSpans, await CountAsync("SELECT count(*) FROM public.spans"));
    }

    [PgliteFact]
    public async Task A_failed_run_drops_its_schema_too()
    {
        var dataset = DatasetReader.Read(WriteBeirSet());
        var runner = new EvalRunner(OfflineAssets.Default, _embedders, new StorageOptions { Provider = "postgres", ConnectionString = fixture.Server.ConnectionString });

        await Assert.ThrowsAsync<ArgumentException>(() => runner.RunAsync(dataset, new EvalSettings { Strategies = "no-such-strategy" }));

        Assert.Equal(0, await CountAsync("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'contextc_eval_%'"));
    }

    private async Task<string> NamesAsync()
    {
        await using var connection = new NpgsqlConnection(fixture.Server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT string_agg(nspname, ' ') FROM pg_namespace WHERE nspname LIKE 'contextc_eval_%'", connection);
        return (await command.ExecuteScalarAsync()) as string ?? "";
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(fixture.Server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    // Six abstracts on distinct topics and three queries worded unlike their abstract's title, so both the lexical and the
    // vector side have something to find.
    private string WriteBeirSet()
    {
        string root = Path.Combine(_folder.FullName, "mini");
        Directory.CreateDirectory(Path.Combine(root, "qrels"));
        File.WriteAllText(Path.Combine(root, "corpus.jsonl"), string.Join("\n",
            """{"_id": "d1", "title": "Photosynthesis", "text": "Chlorophyll in the leaves absorbs sunlight, and the plant turns water and carbon dioxide into sugar and oxygen."}""",
            """{"_id": "d2", "title": "Basalt", "text": "Basalt is a dark volcanic rock that forms when lava rich in iron and magnesium cools quickly at the surface."}""",
            """{"_id": "d3", "title": "Tides", "text": "The gravity of the moon pulls the oceans, so the sea rises and falls twice a day along every coast."}""",
            """{"_id": "d4", "title": "Insulin", "text": "The pancreas releases insulin after a meal so that muscle and liver cells take up glucose from the blood."}""",
            """{"_id": "d5", "title": "Sourdough", "text": "Wild yeast and lactic acid bacteria in a starter leaven the dough and give the bread its sour taste."}""",
            """{"_id": "d6", "title": "Auroras", "text": "Charged particles from the sun strike the upper atmosphere near the poles and make the sky glow green and red."}""") + "\n");
        File.WriteAllText(Path.Combine(root, "queries.jsonl"), string.Join("\n",
            """{"_id": "q1", "text": "how do plants make sugar from sunlight"}""",
            """{"_id": "q2", "text": "why does the sea level rise and fall each day"}""",
            """{"_id": "q3", "text": "which hormone lets cells absorb blood glucose"}""") + "\n");
        File.WriteAllText(Path.Combine(root, "qrels", "test.tsv"), "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td3\t1\nq3\td4\t1\n");
        return root;
    }
}
