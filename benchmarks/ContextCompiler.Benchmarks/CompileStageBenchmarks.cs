using BenchmarkDotNet.Attributes;
using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Fuse;
using ContextCompiler.Core.Pack;
using ContextCompiler.Core.Retrieve;
using ContextCompiler.Core.Select;
using ContextCompiler.Core.Tokenization;
using ContextCompiler.Engine.Assets;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Ingest;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Benchmarks;

/// <summary>
/// Each compile stage on its own, over the real default corpus (ingested once into a temporary index) and one
/// representative question, so a regression shows in the stage that caused it.
/// Run with: dotnet run -c Release --project benchmarks/ContextCompiler.Benchmarks -- --filter '*CompileStageBenchmarks*'
/// </summary>
[MemoryDiagnoser]
public class CompileStageBenchmarks
{
    private const string Query = "What happens when another connection holds a lock and the busy timeout expires?";
    private readonly CompilerOptions _options = new();
    private string _folder = "";
    private IndexStore _store = null!;
    private ITokenizer _tokenizer = null!;
    private InMemoryLexicalIndex _lexical = null!;
    private InMemoryVectorIndex _vectors = null!;
    private WorkingSetCompiler _compiler = null!;
    private float[] _queryVector = [];
    private IReadOnlyList<RankedSpan> _lexicalHits = [];
    private IReadOnlyList<RankedSpan> _vectorHits = [];
    private IReadOnlyList<FusedCandidate> _fused = [];
    private List<Candidate> _candidates = [];
    private List<Candidate> _selected = [];
    private IReadOnlyList<string> _terms = [];

    [Params(1000, 4000)]
    public int Budget { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        var assets = OfflineAssets.Default;
        var corpus = RepositoryLayout.DefaultCorpus() ?? throw new InvalidOperationException("Run inside the repository: corpora/sqlite-docs is needed.");
        _folder = Directory.CreateTempSubdirectory("contextc-stages-").FullName;
        _store = IndexStore.Open(Path.Combine(_folder, "stages.db"), assets.Vec0Path, new EmbeddingModel(Core.Embedding.GloveSifEmbedder.ModelId, assets.Embedder.Dimensions));
        _tokenizer = assets.Tokenizer();
        await new CorpusIngestor(_store, _tokenizer, assets.Embedder).IngestAsync([corpus], new IngestOptions());
        var snapshots = new IndexSnapshotCache(_store);
        _lexical = new InMemoryLexicalIndex(snapshots);
        _vectors = new InMemoryVectorIndex(snapshots);
        _compiler = CompilerFactory.Create(_store, assets.Embedder, assets);
        _queryVector = assets.Embedder.Embed(Query);
        _terms = QueryTerms.Of(Query);
        _lexicalHits = LexicalRetrieve();
        _vectorHits = VectorRetrieve();
        _fused = Fuse();
        var ids = _fused.Select(f => f.Key.Id).ToList();
        var spans = new SqliteSpanCatalog(_store).Get(ids);
        var embeddings = _vectors.VectorsOf(ids);
        _candidates = _fused.Select(f => new Candidate(f, spans[f.Key.Id], embeddings.GetValueOrDefault(f.Key.Id))).ToList();
        _selected = Select();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark]
    public IReadOnlyList<RankedSpan> LexicalRetrieve() =>
        _lexical.Search(new LexicalRequest(Query, new RetrievalFilter(), _options.Candidates, _options.LexicalWeights, _options.Bm25));

    [Benchmark]
    public IReadOnlyList<RankedSpan> VectorRetrieve() => _vectors.Search(_queryVector, new RetrievalFilter(), _options.Candidates);

    [Benchmark]
    public float[] EmbedQuery() => OfflineAssets.Default.Embedder.Embed(Query);

    [Benchmark]
    public IReadOnlyList<FusedCandidate> Fuse() =>
        Fusions.Create(_options.Fusion, _options.VectorWeight, _options.RrfK).Fuse(_lexicalHits, _vectorHits);

    [Benchmark]
    public List<Candidate> Select()
    {
        var dropped = new List<DroppedCandidate>();
        var kept = CandidateFilter.Apply(_candidates, _options.MinRelativeScore, dropped);
        return MmrReranker.Apply(kept, 0.7, _options.RedundancyCutoff, dropped);
    }

    [Benchmark]
    public PackResult Pack() =>
        new BudgetPacker(_tokenizer).Pack(_selected, Budget, WorkingSetOrder.Score, allowTruncation: true, _options.MinTruncatedTokens, _terms, []);

    [Benchmark(Baseline = true)]
    public Task<WorkingSet> WholeCompile() => _compiler.CompileAsync(new CompileRequest(Query, Budget));
}
