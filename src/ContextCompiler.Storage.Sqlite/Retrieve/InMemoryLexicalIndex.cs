using ContextCompiler.Core.Retrieve;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>BM25F over the snapshot's in-memory inverted index: tunable k1 and b, and only the query terms' postings are scored.</summary>
public sealed class InMemoryLexicalIndex(IndexSnapshotCache snapshots) : ILexicalRetriever
{
    /// <inheritdoc />
    public string Name => "bm25";

    /// <inheritdoc />
    public IReadOnlyList<RankedSpan> Search(LexicalRequest request) =>
        snapshots.Current().Lexical.Search(Bm25Index.QueryTerms(request.Query), request.Filter, request.Limit, request.Weights, request.Bm25,
            request.Context is null ? null : Bm25Index.QueryTerms(request.Context), request.ContextWeight);
}
