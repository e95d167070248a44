using System.Globalization;
using ContextCompiler.Benchmarks.Quick;
using ContextCompiler.Engine;
using ContextCompiler.Engine.Assets;
using ContextCompiler.Engine.Embedding;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Stores;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Benchmarks.ScaleOut;

/// <summary>
/// The figures of issue 17 (scale-out to PostgreSQL), on PGlite:
///   dotnet run -c Release --project benchmarks/ContextCompiler.Benchmarks -- scaleout --db INDEX
///     [--phases compile,hnsw,fill,turns] [--spans 10000,100000] [--budget 1000] [--seconds 10]
///     [--hnsw-spans 100000] [--ef 40,100,200,400] [--jitter 0.02] [--fill-spans 3072] [--replicas 1,3] [--sessions 1,8] [--turn-seconds 20]
/// INDEX is a SQLite index of the default corpus built with all-MiniLM-L6-v2 (<c>contextc ingest corpora/sqlite-docs --db INDEX</c>);
/// its spans and stored vectors are what every PostgreSQL database of the run is loaded with.
/// </summary>
internal static class ScaleOutBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        string db = BenchmarkArgs.Option(args, "--db", "") is { Length: > 0 } path ? Path.GetFullPath(path) : throw new ArgumentException("--db INDEX is required.");
        var phases = BenchmarkArgs.Option(args, "--phases", "compile,hnsw,fill,turns").Split(',').ToHashSet(StringComparer.OrdinalIgnoreCase);
        string root = RepositoryLayout.Root() ?? throw new InvalidOperationException("Run inside the repository.");
        var temp = Directory.CreateTempSubdirectory("contextc-scaleout-").FullName;
        var assets = OfflineAssets.Default;
        var model = IndexStore.StoredModel(db) ?? throw new ArgumentException($"{db} holds no index.");
        var index = IndexStore.Open(db, assets.Vec0Path, model);
        using var catalog = new EmbedderCatalog(assets);
        var context = new Context(root, temp, db, assets, model, SyntheticIndex.Source.Read(index), CorpusOf(db),
            catalog.For(model.Id).Queries, QuestionSets.Read(root), args);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Scale-out run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; source {db} ({context.Source.SpanCount:N0} spans, {model.Id}); load average {File.ReadAllText("/proc/loadavg").Trim()}\n"));
        try
        {
            if (phases.Contains("compile") || phases.Contains("hnsw"))
            {
                await CompileComparison.RunAsync(context, phases.Contains("compile"), phases.Contains("hnsw"));
            }

            if (phases.Contains("fill"))
            {
                await VectorFillThroughput.RunAsync(context);
            }

            if (phases.Contains("turns"))
            {
                await ReplicaTurns.RunAsync(context);
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(temp, recursive: true);
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"left {temp}: {e.Message}");
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\nEnd {DateTime.UtcNow:HH:mm} UTC; load average {File.ReadAllText("/proc/loadavg").Trim()}"));
        return 0;
    }

    /// <summary>
    /// The PostgreSQL store as the service opens it (its provider, migrations and retrievers), on
    /// <paramref name="connectionString"/>, in this process.
    /// </summary>
    public static (ServiceProvider Services, IStore Store) OpenPostgres(Context context, string connectionString)
    {
        var services = new ServiceCollection();
        services.AddSingleton(context.Assets);
        services.AddContextCompiler(new ContextCompilerOptions
        {
            EmbeddingModel = context.Model.Id,
            // Never used for passages here (the vectors are loaded), but the catalog must not open the repository's cache.
            EmbeddingCachePath = Path.Combine(context.Temp, "inprocess-cache.db"),
            Storage = new StorageOptions { Provider = "postgres", ConnectionString = connectionString },
        });
        var provider = services.BuildServiceProvider();
        return (provider, provider.GetRequiredService<IStore>());
    }

    // The one corpus of the default index, under which the real spans are loaded.
    private static string CorpusOf(string db)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT DISTINCT corpus FROM artifacts";
        using var reader = command.ExecuteReader();
        var corpora = new List<string>();
        while (reader.Read())
        {
            corpora.Add(reader.GetString(0));
        }

        return corpora.Count == 1 ? corpora[0] : throw new ArgumentException($"{db} holds {corpora.Count} corpora; the benchmark expects the default corpus alone.");
    }

    /// <summary>What every phase shares.</summary>
    internal sealed record Context(
        string Root, string Temp, string Database, OfflineAssets Assets, EmbeddingModel Model, SyntheticIndex.Source Source, string Corpus,
        IEmbeddingGenerator<string, Embedding<float>> Queries, string[] DevQuestions, string[] Args)
    {
        public string Option(string name, string fallback) => BenchmarkArgs.Option(Args, name, fallback);

        public int[] Ints(string name, string fallback) =>
            Option(name, fallback).Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();

        public double Number(string name, string fallback) => double.Parse(Option(name, fallback), CultureInfo.InvariantCulture);
    }
}
