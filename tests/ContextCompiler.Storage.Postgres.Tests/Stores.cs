using ContextCompiler.Core.Ingest;
using ContextCompiler.Core.Tokenization;
using ContextCompiler.Engine.Corpora;
using ContextCompiler.Engine.Index;

namespace ContextCompiler.Storage.Postgres.Tests;

/// <summary>One replica's stores over a database: the span index, corpora and documents, as the service wires them.</summary>
internal sealed class Stores
{
    public static readonly EmbeddingModel Model = new("test-384", PostgresSpanIndex.Dimensions);

    public Stores(PostgresDatabase database, CorpusLimits? limits = null, TimeSpan? claimLease = null)
    {
        Database = database;
        Index = new PostgresSpanIndex(database, Model, claimLease: claimLease);
        Corpora = new PostgresCorpusStore(database, limits ?? new CorpusLimits());
        Documents = new PostgresDocumentStore(database, Corpora, new WordTokenizer());
    }

    public PostgresDatabase Database { get; }

    /// <summary>
    /// Another data source on the fixture's server, as a second replica has, that has already loaded its types: its first
    /// connection reads them outside a transaction, which on PGlite must not overlap another connection's statements.
    /// </summary>
    public static async Task<PostgresDatabase> SecondReplicaAsync(MigratedDatabase fixture)
    {
        var database = fixture.Server.NewDatabase();
        await database.AppliedVersionsAsync();
        return database;
    }

    public PostgresSpanIndex Index { get; }

    public PostgresCorpusStore Corpora { get; }

    public PostgresDocumentStore Documents { get; }

    /// <summary>An artifact of <paramref name="corpus"/> whose spans are <paramref name="spans"/>, one line each.</summary>
    public static PreparedArtifact Artifact(string corpus, string path, params string[] spans)
    {
        var chunks = spans.Select((text, i) => new Chunk(i + 1, i + 1, i == 0 ? "" : "# Part " + i, text, text.Split(' ').Length)).ToList();
        string content = string.Join("\n", spans);
        return new PreparedArtifact(corpus, path, SourceKind.Text, "hash-of-" + content.GetHashCode(StringComparison.Ordinal), "test-chunking",
            content, System.Text.Encoding.UTF8.GetByteCount(content), chunks);
    }
}

/// <summary>A tokenizer for the tests: one token per space-separated word, so that counts are easy to predict.</summary>
internal sealed class WordTokenizer : ITokenizer
{
    public string Name => "words";

    public int CountTokens(ReadOnlySpan<char> text) => Encode(text).Count;

    public IReadOnlyList<int> Encode(ReadOnlySpan<char> text) =>
        text.ToString().Split([' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(w => w.Length).ToList();
}
