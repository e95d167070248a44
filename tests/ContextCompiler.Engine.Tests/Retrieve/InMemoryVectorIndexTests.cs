using ContextCompiler.Core.Ingest;
using ContextCompiler.Core.Retrieve;
using ContextCompiler.Engine.Index;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Engine.Tests.Retrieve;

/// <summary>
/// The int8 first pass of <see cref="InMemoryVectorIndex"/> against its exact float scan, on a real index file with
/// random 384-dimension unit vectors, near-duplicates and exact copies: the two must agree on spans, scores and order.
/// </summary>
public sealed class InMemoryVectorIndexTests(RandomVectorIndex fixture) : IClassFixture<RandomVectorIndex>
{
    [Fact]
    public void The_quantised_search_returns_the_exact_scans_spans_scores_and_order()
    {
        var (exact, quantised) = Searches(fixture.Snapshots);
        foreach (int limit in new[] { 1, 10, 100 })
        {
            foreach (var query in fixture.Queries)
            {
                Assert.Equal(exact.Search(query, new RetrievalFilter(), limit), quantised.Search(query, new RetrievalFilter(), limit));
            }
        }

        // Queries near stored spans (as real ones are) are answered from the int8 pass, not by falling back.
        Assert.Equal(3 * fixture.Queries.Count, quantised.ShortlistAnswers);
        Assert.Equal(0, quantised.ExactFallbacks);
    }

    [Fact]
    public void Exact_copies_of_a_span_tie_and_come_out_in_span_key_order()
    {
        var (exact, quantised) = Searches(fixture.Snapshots);
        var hits = quantised.Search(fixture.CopiedVector, new RetrievalFilter(), 10);

        Assert.Equal(exact.Search(fixture.CopiedVector, new RetrievalFilter(), 10), hits);
        var tied = hits.TakeWhile(h => h.Score == hits[0].Score).Select(h => h.Key).ToList();
        Assert.True(tied.Count >= 3, $"expected the copies to tie at the top, got {tied.Count}");
        Assert.Equal(tied.Order(), tied);
        Assert.Equal((1, 0), (quantised.ShortlistAnswers, quantised.ExactFallbacks));
    }

    [Fact]
    public void Spans_with_equal_keys_and_vectors_come_out_in_the_exact_scans_order()
    {
        // Five spans of one document starting on the same line, with one vector: key and score tie, and only the order
        // the rows are offered in separates them.
        using var index = new RandomVectorIndex.Folder();
        var random = new Random(5);
        index.Write(Enumerable.Range(0, 2000).Select(_ => RandomVectorIndex.Unit(random)).ToArray(), artifacts: 20);
        var shared = RandomVectorIndex.Unit(random);
        index.WriteOnOneLine(shared, spans: 5);
        var (exact, quantised) = Searches(new IndexSnapshotCache(index.Store));

        var hits = quantised.Search(shared, new RetrievalFilter(), 10);
        Assert.Equal(5, hits.Count(h => h.Key.Path == "same/line.md"));
        Assert.Equal(exact.Search(shared, new RetrievalFilter(), 10), hits);
        Assert.Equal((1, 0), (quantised.ShortlistAnswers, quantised.ExactFallbacks));
    }

    [Fact]
    public void The_quantised_search_applies_filters_as_the_exact_scan_does()
    {
        var (exact, quantised) = Searches(fixture.Snapshots);
        RetrievalFilter[] filters =
        [
            new(Corpus: "beta"),
            new(PathPrefix: "dir3/"),
            new(Corpora: new HashSet<string>(StringComparer.Ordinal) { "alpha", "gamma" }),
            new(Corpus: "gamma", PathPrefix: "dir1/"),
        ];
        foreach (var filter in filters)
        {
            foreach (var query in fixture.Queries)
            {
                var hits = quantised.Search(query, filter, 50);
                Assert.Equal(exact.Search(query, filter, 50), hits);
                Assert.All(hits, h => Assert.True(filter.Accepts(h.Key.Corpus, h.Key.Path)));
            }
        }

        Assert.Equal(filters.Length * fixture.Queries.Count, quantised.ShortlistAnswers);
    }

    [Fact]
    public void A_shortlist_that_cannot_prove_it_holds_the_top_rows_falls_back_to_the_exact_scan()
    {
        // 2,000 spans within 1e-4 of one vector: their int8 codes (nearly) tie, so a 200-row shortlist picks its rows
        // almost by chance, while the exact scores still tell them apart.
        using var index = new RandomVectorIndex.Folder();
        var random = new Random(7);
        var center = RandomVectorIndex.Unit(random);
        var vectors = Enumerable.Range(0, 2000).Select(_ => RandomVectorIndex.Near(random, center, 1e-4)).ToArray();
        index.Write(vectors, artifacts: 20);
        var (exact, quantised) = Searches(new IndexSnapshotCache(index.Store));
        var query = RandomVectorIndex.Near(random, center, 1.0);

        Assert.Equal(exact.Search(query, new RetrievalFilter(), 10), quantised.Search(query, new RetrievalFilter(), 10));
        Assert.Equal((0, 1), (quantised.ShortlistAnswers, quantised.ExactFallbacks));
    }

    [Fact]
    public void Rows_without_vectors_incremental_loads_and_deletes_keep_the_int8_copy_in_step_with_the_float_rows()
    {
        using var index = new RandomVectorIndex.Folder();
        var random = new Random(11);
        var vectors = Enumerable.Range(0, 3000).Select(_ => RandomVectorIndex.Unit(random)).ToArray();
        var queries = vectors.Where((_, i) => i % 300 == 0).Select(v => RandomVectorIndex.Near(random, v, 0.5)).ToList();
        // A 200-row shortlist, at most an eighth of the rows, so that the int8 pass runs.
        const int Limit = 30;
        var snapshots = new IndexSnapshotCache(index.Store);
        var (exact, quantised) = Searches(snapshots);

        // Text first, a third of the vectors missing (the vector filler has not reached them yet).
        index.Write(vectors, artifacts: 30, withVectors: row => row % 3 != 0);
        var first = snapshots.Current();
        Assert.Equal(2000, first.VectorCount);
        AssertSameSearches();
        AssertInStep(snapshots.Current());
        Assert.All(queries, q => Assert.All(quantised.Search(q, new RetrievalFilter(), Limit), h => Assert.True(first.HasVector[first.Rows[h.Key.Id]])));

        // The missing vectors arrive: the copy takes them without reloading the text.
        index.WriteMissingVectors(vectors);
        Assert.Same(first.Lexical, snapshots.Current().Lexical);
        Assert.Equal(3000, snapshots.Current().VectorCount);
        AssertSameSearches();
        AssertInStep(snapshots.Current());

        // Documents deleted, replaced with other vectors (their spans may get the freed ids), and added without vectors.
        index.Delete(["doc3.md", "doc17.md", "doc29.md"]);
        var replaced = Enumerable.Range(0, 100).Select(_ => RandomVectorIndex.Unit(random)).ToArray();
        index.Replace("doc5.md", replaced);
        index.Write(Enumerable.Range(0, 200).Select(_ => RandomVectorIndex.Unit(random)).ToArray(), artifacts: 2, withVectors: _ => false, firstArtifact: 100);
        var reloaded = snapshots.Refresh();
        Assert.Equal(2700 + 200, reloaded.Keys.Length);
        Assert.Equal(2700, reloaded.VectorCount);
        AssertSameSearches();
        AssertInStep(reloaded);
        Assert.Contains(quantised.Search(replaced[42], new RetrievalFilter(), 1), h => h.Key.Path == "dir5/doc5.md");
        Assert.Equal((4 * queries.Count + 1, 0), (quantised.ShortlistAnswers, quantised.ExactFallbacks));

        void AssertSameSearches()
        {
            foreach (var query in queries)
            {
                Assert.Equal(exact.Search(query, new RetrievalFilter(), Limit), quantised.Search(query, new RetrievalFilter(), Limit));
            }
        }
    }

    [Theory]
    [InlineData(100)]
    [InlineData(384)]
    [InlineData(1000)]
    public void The_int8_dot_products_agree_with_a_plain_integer_sum(int dims)
    {
        var random = new Random(dims);
        var codes = new sbyte[dims];
        var query = new short[dims];
        int limit = (int)Math.Min(short.MaxValue, int.MaxValue / (127L * dims));
        for (int round = 0; round < 50; round++)
        {
            for (int i = 0; i < dims; i++)
            {
                // The first rounds at the extremes, where an overflow would show.
                codes[i] = (sbyte)(round < 2 ? 127 : random.Next(-127, 128));
                query[i] = (short)(round == 0 ? limit : round == 1 ? -limit : random.Next(-limit, limit + 1));
            }

            long expected = 0;
            for (int i = 0; i < dims; i++)
            {
                expected += codes[i] * query[i];
            }

            Assert.Equal(expected, Int8Rows.DotPortable(codes, query));
            if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            {
                Assert.Equal(expected, Int8Rows.DotAvx2(codes, query));
            }
        }
    }

    private static (InMemoryVectorIndex Exact, InMemoryVectorIndex Quantised) Searches(IndexSnapshotCache snapshots) =>
        (new InMemoryVectorIndex(snapshots, quantizedFromRows: int.MaxValue), new InMemoryVectorIndex(snapshots, quantizedFromRows: 0));

    // Every row's codes are those its float row quantises to; a row without a vector is zeros in both.
    private static void AssertInStep(IndexSnapshot snapshot)
    {
        int dims = snapshot.Dimensions;
        var codes = new sbyte[dims];
        for (int row = 0; row < snapshot.Keys.Length; row++)
        {
            var floats = snapshot.Matrix.AsSpan(row * dims, dims);
            var stored = snapshot.Int8.Codes.AsSpan(row * dims, dims);
            if (!snapshot.HasVector[row])
            {
                Assert.True(floats.IndexOfAnyExcept(0f) < 0 && stored.IndexOfAnyExcept((sbyte)0) < 0, $"row {row} has no vector but is not zeros");
                continue;
            }

            Int8Rows.Quantize(floats, codes, out float scale, out float error, out float norm);
            Assert.True(stored.SequenceEqual(codes), $"row {row}'s codes are not its vector's");
            Assert.Equal((scale, error, norm), (snapshot.Int8.Scales[row], snapshot.Int8.Errors[row], snapshot.Int8.Norms[row]));
        }
    }
}

/// <summary>
/// 30,000 spans with random 384-dimension unit vectors in three corpora: every tenth a near-duplicate of an earlier one,
/// and one vector stored in four documents (exact ties); the queries lie near stored spans.
/// </summary>
public sealed class RandomVectorIndex : IDisposable
{
    public const int Dims = 384;

    private readonly Folder _folder = new();

    public RandomVectorIndex()
    {
        var random = new Random(2024);
        var vectors = new float[30_000][];
        for (int i = 0; i < vectors.Length; i++)
        {
            vectors[i] = i % 10 == 9 ? Near(random, vectors[random.Next(i)], 1e-3) : Unit(random);
        }

        CopiedVector = vectors[4321];
        foreach (int copy in new[] { 77, 12_345, 29_999 })
        {
            vectors[copy] = CopiedVector;
        }

        _folder.Write(vectors, artifacts: 300);
        Snapshots = new IndexSnapshotCache(_folder.Store);
        Queries = Enumerable.Range(0, 20).Select(i => Near(random, vectors[random.Next(vectors.Length)], i % 2 == 0 ? 0.5 : 1.0)).ToList();
    }

    public IndexSnapshotCache Snapshots { get; }

    public IReadOnlyList<float[]> Queries { get; }

    /// <summary>The vector stored in four documents.</summary>
    public float[] CopiedVector { get; }

    public static float[] Unit(Random random)
    {
        var v = new float[Dims];
        for (int i = 0; i < Dims; i++)
        {
            // Box–Muller: normal components make the direction uniform.
            v[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }

        Core.Embedding.VectorMath.Normalize(v);
        return v;
    }

    /// <summary><paramref name="center"/> moved by a random vector of length <paramref name="distance"/>, normalised.</summary>
    public static float[] Near(Random random, float[] center, double distance)
    {
        var noise = Unit(random);
        var v = center.Select((c, i) => c + (float)distance * noise[i]).ToArray();
        Core.Embedding.VectorMath.Normalize(v);
        return v;
    }

    public void Dispose() => _folder.Dispose();

    /// <summary>
    /// An index file of 384-dimension vectors written through the store's own writers; document a holds 100 spans with
    /// vectors a·100 … a·100 + 99, in corpus alpha, beta or gamma (by a mod 3) at dir{a mod 7}/doc{a}.md.
    /// </summary>
    public sealed class Folder : IDisposable
    {
        private readonly TempIndex _temp = new();

        public Folder() => Store = IndexStore.Open(Path.Combine(_temp.Root, "vectors.db"), TempIndex.Assets.Vec0Path, new EmbeddingModel("random-384", Dims));

        public IndexStore Store { get; }

        public void Write(float[][] vectors, int artifacts, Func<int, bool>? withVectors = null, int firstArtifact = 0)
        {
            int perArtifact = vectors.Length / artifacts;
            if (perArtifact != 100)
            {
                throw new ArgumentException("Documents hold 100 spans each.", nameof(artifacts));
            }

            var batch = Enumerable.Range(0, artifacts).Select(a => Artifact(a + firstArtifact, Enumerable.Range(0, perArtifact).Select(i => Text(a + firstArtifact, i))))
                .Select(a => (a, (StoredArtifact?)null)).ToList();
            Store.Write(batch);
            var pending = Store.SpansWithoutVectors(0, int.MaxValue);
            Store.WriteVectors([.. pending.Select(p => (p.Id, Row: Row(p.Text) - firstArtifact * perArtifact))
                .Where(p => withVectors?.Invoke(p.Row) ?? true)
                .Select(p => (p.Id, (ReadOnlyMemory<float>)vectors[p.Row]))]);
        }

        /// <summary>A document same/line.md of <paramref name="spans"/> spans that all start on line 1 and share <paramref name="vector"/>.</summary>
        public void WriteOnOneLine(float[] vector, int spans)
        {
            var chunks = Enumerable.Range(0, spans).Select(i => new Chunk(1, 1, "", $"same line {i}", 3)).ToList();
            Store.Write([(new PreparedArtifact("alpha", "same/line.md", SourceKind.Text, "hash-same-line", "test", "same line", 9, chunks), null)]);
            Store.WriteVectors([.. Store.SpansWithoutVectors(0, int.MaxValue).Select(p => (p.Id, (ReadOnlyMemory<float>)vector))]);
        }

        public void WriteMissingVectors(float[][] vectors) =>
            Store.WriteVectors([.. Store.SpansWithoutVectors(0, int.MaxValue).Select(p => (p.Id, (ReadOnlyMemory<float>)vectors[Row(p.Text)]))]);

        public void Delete(IEnumerable<string> names)
        {
            var ids = new List<long>();
            using (var lease = Store.Rent())
            {
                using var command = lease.Connection.CreateCommand();
                command.CommandText = "SELECT id, path FROM artifacts";
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    if (names.Contains(Path.GetFileName(reader.GetString(1))))
                    {
                        ids.Add(reader.GetInt64(0));
                    }
                }
            }

            Store.Delete(ids);
        }

        /// <summary>Document <paramref name="name"/> (doc{a}.md) deleted and written again with <paramref name="vectors"/>.</summary>
        public void Replace(string name, float[][] vectors)
        {
            Delete([name]);
            int a = int.Parse(name[3..^3], System.Globalization.CultureInfo.InvariantCulture);
            // Texts that name other rows, so that their vectors can be found by text: "doc a span i" → vectors[i].
            Store.Write([(Artifact(a, vectors.Select((_, i) => $"doc {a} span {i} again")), null)]);
            Store.WriteVectors([.. Store.SpansWithoutVectors(0, int.MaxValue).Where(p => p.Text.EndsWith(" again", StringComparison.Ordinal))
                .Select(p => (p.Id, (ReadOnlyMemory<float>)vectors[int.Parse(p.Text.Split(' ')[3], System.Globalization.CultureInfo.InvariantCulture)]))]);
        }

        public void Dispose()
        {
            Store.Dispose();
            _temp.Dispose();
        }

        private static string Text(int artifact, int span) => $"doc {artifact} span {span}";

        // The vector row a span's text names: document a's span i is row a·(spans per document) + i, 100 per document.
        private static int Row(string text)
        {
            var parts = text.Split(' ');
            return int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) * 100 + int.Parse(parts[3], System.Globalization.CultureInfo.InvariantCulture);
        }

        private static PreparedArtifact Artifact(int a, IEnumerable<string> texts)
        {
            var chunks = texts.Select((t, i) => new Chunk(i + 1, i + 1, "", t, 4)).ToList();
            string content = string.Join("\n", chunks.Select(c => c.Text));
            return new PreparedArtifact(new[] { "alpha", "beta", "gamma" }[a % 3], $"dir{a % 7}/doc{a}.md", SourceKind.Text,
                $"hash-{a}-{content.GetHashCode(StringComparison.Ordinal)}", "test", content, content.Length, chunks);
        }
    }
}
