using ContextCompiler.Core.Retrieve;
using ContextCompiler.Engine.Index;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>
/// BM25 over the FTS5 index (porter-stemmed title, heading trail and body), using SQLite's <c>bm25()</c> with
/// per-column weights. The query's terms are OR-ed, so a span needs only some of them; BM25 rewards the rare ones.
/// FTS5 fixes k1 = 1.2 and b = 0.75, and scores every matching row, which is slow on large indexes with common
/// terms (see benchmarks/RESULTS.md); the in-memory "bm25" retriever is the default for that reason.
/// Its spans are restricted to the caller's readable corpora, but bm25()'s idf and average length are FTS5's own, over
/// every corpus: unlike "bm25", another tenant's uploads can move a caller's scores (never its text) through this retriever.
/// </summary>
public sealed class Fts5LexicalRetriever(IndexStore store) : ILexicalRetriever
{
    /// <inheritdoc />
    public string Name => "fts5";

    /// <inheritdoc />
    public IReadOnlyList<RankedSpan> Search(LexicalRequest request)
    {
        var (query, filter, limit, weights) = (request.Query, request.Filter, request.Limit, request.Weights);
        // FTS5's bm25() has no per-term weights: the conversation's terms simply join the query's.
        var terms = QueryTerms.Of(request.Context is null || request.ContextWeight <= 0 ? query : query + "\n" + request.Context);
        if (terms.Count == 0)
        {
            return [];
        }

        using var lease = store.Rent();
        using var command = lease.Connection.CreateCommand();
        // Ties in bm25 fall back to corpus, path and line so that the order never depends on row ids.
        command.CommandText = """
            SELECT s.id, a.corpus, a.path, s.start_line, -bm25(span_fts, $wt, $wh, $wb) AS score
            FROM span_fts
            JOIN spans s ON s.id = span_fts.rowid
            JOIN artifacts a ON a.id = s.artifact_id
            WHERE span_fts MATCH $match
              AND ($corpus IS NULL OR a.corpus = $corpus)
              AND ($corpora IS NULL OR a.corpus IN (SELECT value FROM json_each($corpora)))
              AND ($prefix IS NULL OR substr(a.path, 1, length($prefix)) = $prefix)
            ORDER BY score DESC, a.corpus, a.path, s.start_line
            LIMIT $limit
            """;
        command.Parameters.AddWithValue("$wt", weights.Title);
        command.Parameters.AddWithValue("$wh", weights.Heading);
        command.Parameters.AddWithValue("$wb", weights.Body);
        command.Parameters.AddWithValue("$match", MatchExpression(terms));
        command.Parameters.AddWithValue("$corpus", (object?)filter.Corpus ?? DBNull.Value);
        command.Parameters.AddWithValue("$prefix", (object?)filter.PathPrefix ?? DBNull.Value);
        command.Parameters.AddWithValue("$corpora", filter.Corpora is null ? DBNull.Value : System.Text.Json.JsonSerializer.Serialize(filter.Corpora));
        command.Parameters.AddWithValue("$limit", limit);
        using var reader = command.ExecuteReader();
        var hits = new List<RankedSpan>(limit);
        while (reader.Read())
        {
            hits.Add(new RankedSpan(new SpanKey(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3)), reader.GetDouble(4)));
        }

        return hits;
    }

    /// <summary>An FTS5 query OR-ing the terms, each quoted so that no term is read as FTS5 syntax.</summary>
    public static string MatchExpression(IReadOnlyList<string> terms) =>
        string.Join(" OR ", terms.Select(t => "\"" + t.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""));
}
