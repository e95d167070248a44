using ContextCompiler.Core.Retrieve;
using ContextCompiler.Engine.Corpora;
using ContextCompiler.Engine.Index;

namespace ContextCompiler.Storage.Postgres.Tests;

/// <summary>The retrievers through Core's interfaces against a real PGlite: the readable-corpora filter, ranking and exact text.</summary>
[Collection(MigratedCollection.Name)]
public sealed class RetrieverTests(MigratedDatabase fixture)
{
    private readonly Stores _stores = new(fixture.Database);

    [PgliteFact]
    public void Bm25_finds_only_what_the_tenant_may_read()
    {
        _stores.Corpora.Create("ret-a", "docs");
        _stores.Corpora.Create("ret-b", "docs");
        _stores.Documents.Put("ret-a", "docs", "guide/wal.md", "The zebrafish journal keeps every zebrafish write.", null);
        _stores.Documents.Put("ret-a", "docs", "other/plain.md", "A zebrafish appears once here among many other words of text.", null);
        _stores.Documents.Put("ret-b", "docs", "secret.md", "zebrafish zebrafish zebrafish journal", null);
        _stores.Index.Write([(Stores.Artifact("ret-shared", "manual.md", "the operator's zebrafish manual"), null)]);

        ILexicalRetriever lexical = new PostgresLexicalRetriever(fixture.Database);
        Assert.Equal("bm25", lexical.Name);
        var readable = _stores.Corpora.ReadableFilter("ret-a");
        var hits = lexical.Search(Request("zebrafish journal", readable));

        Assert.Equal(["ret-a/docs", "ret-a/docs", "ret-shared"], hits.Select(h => h.Key.Corpus).Order(StringComparer.Ordinal));
        Assert.Equal("guide/wal.md", hits[0].Key.Path);
        Assert.True(hits.Zip(hits.Skip(1)).All(p => p.First.Score >= p.Second.Score), string.Join(", ", hits));
        Assert.DoesNotContain(hits, h => h.Key.Corpus == "ret-b/docs");

        // One corpus, a path prefix, a limit; a corpus outside the readable set gives nothing.
        Assert.All(lexical.Search(Request("zebrafish", readable with { Corpus = "ret-shared" })), h => Assert.Equal("ret-shared", h.Key.Corpus));
        Assert.Equal(["other/plain.md"], lexical.Search(Request("zebrafish", readable with { PathPrefix = "other/" })).Select(h => h.Key.Path));
        Assert.Single(lexical.Search(Request("zebrafish", readable) with { Limit = 1 }));
        Assert.Empty(lexical.Search(Request("zebrafish", readable with { Corpus = "ret-b/docs" })));
        Assert.Empty(lexical.Search(Request("  ", readable)));

        // The catalog returns the hits' spans.
        var spans = new PostgresSpanCatalog(fixture.Database).Get([.. hits.Select(h => h.Key.Id)]);
        Assert.Contains("zebrafish journal keeps", spans[hits[0].Key.Id].Text, StringComparison.Ordinal);
    }

    [PgliteFact]
    public void Vector_top_k_keeps_to_the_readable_corpora_and_VectorsOf_reads_the_stored_vectors()
    {
        _stores.Corpora.Create("vret-a", "docs");
        _stores.Corpora.Create("vret-b", "docs");
        long after = MaxSpanId();
        _stores.Documents.Put("vret-a", "docs", "one.md", "first", null);
        _stores.Documents.Put("vret-a", "docs", "sub/two.md", "second", null);
        _stores.Documents.Put("vret-a", "docs", "three.md", "third", null);
        _stores.Documents.Put("vret-b", "docs", "theirs.md", "theirs", null);

        // Fill the vectors as a filler would: axis 1 for "first", 2 for "second", ... and the other tenant right on the query.
        var pending = _stores.Index.SpansWithoutVectors(after, 100);
        Assert.Equal(4, pending.Count);
        var axis = new Dictionary<string, int> { ["first"] = 1, ["second"] = 2, ["third"] = 3, ["theirs"] = 2 };
        Assert.Equal(4, _stores.Index.WriteVectors([.. pending.Select(p => (p.Id, (ReadOnlyMemory<float>)Towards(axis[p.Text], p.Text == "theirs" ? 0 : 0.2f)))]));
        Assert.Equal(DocumentStatus.Ready, _stores.Documents.Get("vret-a", "docs", "one.md").Document.Status);

        IVectorRetriever vectors = new PostgresVectorRetriever(fixture.Database);
        var readable = _stores.Corpora.ReadableFilter("vret-a");
        var hits = vectors.Search(Towards(2, 0), readable, 2);
        Assert.Equal(2, hits.Count);
        Assert.Equal(("vret-a/docs", "sub/two.md"), (hits[0].Key.Corpus, hits[0].Key.Path));
        Assert.True(hits[0].Score > hits[1].Score);
        Assert.DoesNotContain(hits, h => h.Key.Corpus == "vret-b/docs");
        Assert.Equal(["sub/two.md"], vectors.Search(Towards(1, 0), readable with { PathPrefix = "sub/" }, 5).Select(h => h.Key.Path));
        Assert.Empty(vectors.Search(new float[10], readable, 5));

        var ids = hits.Select(h => h.Key.Id).Append(-1).ToList();
        var stored = vectors.VectorsOf(ids);
        Assert.Equal(hits.Select(h => h.Key.Id).Order(), stored.Keys.Order());
        Assert.Equal(Towards(2, 0.2f), stored[hits[0].Key.Id]);
    }

    [PgliteFact]
    public void The_catalog_returns_span_text_and_heading_exactly()
    {
        string text = "NUL \0 and a lone \uDBFF surrogate", heading = "# Head \uDC01\0";
        var artifact = Stores.Artifact("cat-op", "exact.md", "plain first", text) is var a
            ? a with { Chunks = [a.Chunks[0], a.Chunks[1] with { Heading = heading }] }
            : null!;
        _stores.Index.Write([(artifact, null)]);
        var hit = new PostgresLexicalRetriever(fixture.Database).Search(Request("surrogate", new RetrievalFilter(Corpus: "cat-op"))).Single();

        var span = new PostgresSpanCatalog(fixture.Database).Get([hit.Key.Id, -5]).Single().Value;
        Assert.Equal(text, span.Text);
        Assert.Equal(heading, span.Heading);
        Assert.Equal(new SpanKey(hit.Key.Id, "cat-op", "exact.md", 2), span.Key);
        Assert.Equal(2, span.EndLine);
        Assert.Equal(text.Split(' ').Length, span.Tokens);
    }

    private static LexicalRequest Request(string query, RetrievalFilter filter) =>
        new(query, filter, 10, new LexicalWeights(), new Bm25Parameters());

    private static float[] Towards(int axis, float noise)
    {
        var vector = new float[PostgresSpanIndex.Dimensions];
        for (int i = 0; i < vector.Length; i++)
        {
            vector[i] = noise * MathF.Sin(i * 0.37f + axis);
        }

        vector[axis] += 1;
        return vector;
    }

    private long MaxSpanId()
    {
        using var connection = fixture.Database.DataSource.OpenConnection();
        using var command = new Npgsql.NpgsqlCommand("SELECT COALESCE(max(id), 0) FROM spans", connection);
        return (long)command.ExecuteScalar()!;
    }
}
