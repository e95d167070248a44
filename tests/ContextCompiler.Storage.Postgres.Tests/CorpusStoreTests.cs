using ContextCompiler.Engine.Corpora;

namespace ContextCompiler.Storage.Postgres.Tests;

/// <summary>PostgresCorpusStore against a real PGlite: the corpus rules the SQLite store has, and its limit.</summary>
[Collection(MigratedCollection.Name)]
public sealed class CorpusStoreTests(MigratedDatabase fixture)
{
    private readonly Stores _stores = new(fixture.Database, new CorpusLimits { MaxCorporaPerTenant = 2 });

    [PgliteFact]
    public void A_tenant_reads_its_own_and_shared_corpora_and_writes_only_its_own()
    {
        var corpora = _stores.Corpora;
        var created = corpora.Create("cs-a", "cs-docs");
        Assert.Equal(new CorpusInfo("cs-docs", "cs-a/cs-docs", true, false, created.CreatedAt, 0, 0), created);
        Assert.Throws<CorpusConflictException>(() => corpora.Create("cs-a", "cs-docs"));
        Assert.Throws<ArgumentException>(() => corpora.Create("cs-a", "no/slash"));

        // Another tenant's corpus is not found, never forbidden; the same name is free for another tenant.
        Assert.Throws<CorpusNotFoundException>(() => corpora.ReadableKey("cs-b", "cs-docs"));
        Assert.Throws<CorpusNotFoundException>(() => corpora.Delete("cs-b", "cs-docs"));
        Assert.Equal("cs-b/cs-docs", corpora.Create("cs-b", "cs-docs").Key);

        // An operator's corpus (registered by ingestion) is shared: readable by all, owned by none.
        _stores.Index.Write([(Stores.Artifact("cs-shared", "a.md", "operator text"), null)]);
        Assert.Equal("cs-shared", corpora.ReadableKey("cs-a", "cs-shared"));
        Assert.Throws<CorpusNotFoundException>(() => corpora.OwnedKey("cs-a", "cs-shared"));
        Assert.Throws<CorpusConflictException>(() => corpora.Create("cs-c", "cs-shared"));

        Assert.Equal("cs-a/cs-docs", corpora.OwnedKey("cs-a", "cs-docs"));
        Assert.Contains("cs-shared", corpora.Readable("cs-a"));
        Assert.Contains("cs-a/cs-docs", corpora.Readable("cs-a"));
        Assert.DoesNotContain("cs-b/cs-docs", corpora.Readable("cs-a"));

        // Shared by the operator: cs-b reads cs-a's corpus, but its own of that name comes first, and it never writes cs-a's.
        corpora.SetShared("cs-a/cs-docs", true);
        Assert.Contains("cs-a/cs-docs", corpora.Readable("cs-c"));
        Assert.Equal("cs-a/cs-docs", corpora.ReadableKey("cs-c", "cs-docs"));
        Assert.Throws<CorpusNotFoundException>(() => corpora.OwnedKey("cs-c", "cs-docs"));
        Assert.Equal("cs-b/cs-docs", corpora.ReadableKey("cs-b", "cs-docs"));
        Assert.Throws<CorpusNotFoundException>(() => corpora.SetShared("cs-nobody/cs-docs", true));

        // Its own first, then the shared ones by name.
        var listed = corpora.List("cs-b").Where(c => c.Key.StartsWith("cs-", StringComparison.Ordinal)).ToList();
        Assert.Equal(["cs-b/cs-docs", "cs-a/cs-docs", "cs-shared"], listed.Select(c => c.Key));
        Assert.Equal([true, false, false], listed.Select(c => c.Owned));
        Assert.Equal(1, listed.Single(c => c.Key == "cs-shared").Documents);

        corpora.SetShared("cs-a/cs-docs", false);
        Assert.Throws<CorpusNotFoundException>(() => corpora.ReadableKey("cs-c", "cs-docs"));
        corpora.Delete("cs-a", "cs-docs");
        Assert.Throws<CorpusNotFoundException>(() => corpora.OwnedKey("cs-a", "cs-docs"));
        Assert.DoesNotContain(corpora.All(), c => c.Key == "cs-a/cs-docs");
        Assert.Contains(corpora.All(), c => c.Key == "cs-b/cs-docs" && c.Tenant == "cs-b");
    }

    [PgliteFact]
    public async Task The_corpus_limit_holds_when_two_replicas_create_at_once()
    {
        await using var secondDatabase = await Stores.SecondReplicaAsync(fixture);
        var replicas = new[] { _stores.Corpora, new Stores(secondDatabase, new CorpusLimits { MaxCorporaPerTenant = 2 }).Corpora };
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() =>
        {
            try
            {
                replicas[i % 2].Create("cs-quota", $"c{i}");
                return "created";
            }
            catch (QuotaExceededException e)
            {
                Assert.Contains("the most allowed (2)", e.Message, StringComparison.Ordinal);
                return "quota";
            }
        })));

        Assert.Equal(2, outcomes.Count(o => o == "created"));
        Assert.Equal(2, _stores.Corpora.List("cs-quota").Count(c => c.Owned));
    }

    [PgliteFact]
    public void Deleting_a_corpus_deletes_its_documents_and_spans()
    {
        _stores.Corpora.Create("cs-del", "cs-docs");
        _stores.Documents.Put("cs-del", "cs-docs", "a.md", "# Title\n\nSome words to find.", null);
        Assert.Single(_stores.Index.Artifacts("cs-del/cs-docs"));

        _stores.Corpora.Delete("cs-del", "cs-docs");
        Assert.Empty(_stores.Index.Artifacts("cs-del/cs-docs"));
        Assert.Empty(_stores.Index.SpanTotals("cs-del/cs-docs"));
        Assert.Throws<CorpusNotFoundException>(() => _stores.Documents.Get("cs-del", "cs-docs", "a.md"));
    }
}
