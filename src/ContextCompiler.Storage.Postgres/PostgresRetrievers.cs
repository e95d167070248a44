using ContextCompiler.Core.Retrieve;
using ContextCompiler.Core.Text;
using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace ContextCompiler.Storage.Postgres;

/// <summary>
/// Core's lexical retriever over pg_textsearch's BM25 index, registered as <c>"bm25"</c> so that the compiler's default
/// and every stored manifest's <c>lexical = "bm25"</c> resolve on this store. It is not the SQLite store's in-memory
/// BM25F: pg_textsearch keeps its statistics (document count, average length, document frequencies) over the whole
/// index, every tenant's spans together, so another tenant's uploads can move a caller's scores (never its results'
/// text: the filter keeps those out); k1 and b are the index's own, fixed when it is built, and the request's <see cref="LexicalRequest.Bm25"/>
/// and column weights are not applied (path, heading and body are one indexed text); conversation context terms join
/// the query's with weight 1, as for SQLite's "fts5". A replay of a manifest made on SQLite can therefore rank differently here.
/// </summary>
public sealed class PostgresLexicalRetriever(PostgresDatabase database) : ILexicalRetriever
{
    /// <inheritdoc />
    public string Name => "bm25";

    /// <inheritdoc />
    public IReadOnlyList<RankedSpan> Search(LexicalRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        string query = SearchableText.Of(request.Context is null || request.ContextWeight <= 0 ? request.Query : request.Query + "\n" + request.Context);
        var corpora = PostgresCorpusKeys.Refs(request.Filter);
        if (request.Limit <= 0 || string.IsNullOrWhiteSpace(query) || corpora is { Count: 0 })
        {
            return [];
        }

        using var session = PgSession.Begin(database.DataSource);
        var connection = session.Connection;
        // <@> is a negative BM25 score (lower is better); the LIMIT is what lets the index return the top k, and a
        // span none of whose terms match scores 0 and is no hit (as in PostgresSpanSearch.Bm25Sql).
        using var command = PgSql.Command(connection, null, $"""
            SELECT id, tenant, corpus, path, start_line, score FROM (
                SELECT s.id, s.tenant, s.corpus, s.path, s.start_line, s.text <@> to_bm25query($1, 'spans_bm25') AS score
                FROM spans s
                WHERE {SpanFilter.Sql(request.Filter, corpora)}
                ORDER BY s.text <@> to_bm25query($1, 'spans_bm25')
                LIMIT $2
            ) AS top
            WHERE score < 0
            """, new NpgsqlParameter { Value = query, NpgsqlDbType = NpgsqlDbType.Text }, request.Limit);
        SpanFilter.Bind(command, request.Filter, corpora);
        return SpanFilter.ReadRanked(command, score => -score);
    }
}

/// <summary>Core's vector retriever over pgvector's HNSW index on the spans' embeddings, by cosine similarity.</summary>
public sealed class PostgresVectorRetriever(PostgresDatabase database, PostgresSearchOptions? options = null) : IVectorRetriever
{
    private readonly PostgresSearchOptions _options = options ?? new PostgresSearchOptions();

    /// <inheritdoc />
    public IReadOnlyList<RankedSpan> Search(ReadOnlySpan<float> query, RetrievalFilter filter, int limit)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var corpora = PostgresCorpusKeys.Refs(filter);
        // A query of another model's size cannot be compared with the stored vectors: no hits, as in the SQLite store.
        if (limit <= 0 || query.Length != PostgresSpanIndex.Dimensions || corpora is { Count: 0 })
        {
            return [];
        }

        var vector = new Vector(query.ToArray());
        using var connection = database.DataSource.OpenConnection();
        // The pgvector settings with SET LOCAL semantics: they end with this transaction, so they never reach the next
        // user of the pooled connection (nor, on PGlite, the other connections sharing its one session).
        using var transaction = connection.BeginTransaction();
        using (var settings = PostgresSpanSearch.VectorSettingsCommand(_options, connection, transaction))
        {
            settings.ExecuteNonQuery();
        }

        using var command = PgSql.Command(connection, transaction, $"""
            SELECT s.id, s.tenant, s.corpus, s.path, s.start_line, s.embedding <=> $1 AS distance
            FROM spans s
            WHERE s.embedding IS NOT NULL AND {SpanFilter.Sql(filter, corpora)}
            ORDER BY s.embedding <=> $1
            LIMIT $2
            """, vector, limit);
        SpanFilter.Bind(command, filter, corpora);
        var hits = SpanFilter.ReadRanked(command, distance => 1 - distance);
        transaction.Commit();
        return hits;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<long, float[]> VectorsOf(IReadOnlyCollection<long> spanIds)
    {
        ArgumentNullException.ThrowIfNull(spanIds);
        var vectors = new Dictionary<long, float[]>(spanIds.Count);
        if (spanIds.Count == 0)
        {
            return vectors;
        }

        using var session = PgSession.Begin(database.DataSource);
        var connection = session.Connection;
        using var select = PgSql.Command(connection, null, "SELECT id, embedding FROM spans WHERE id = ANY($1) AND embedding IS NOT NULL", spanIds.ToArray());
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            vectors[reader.GetInt64(0)] = reader.GetFieldValue<Vector>(1).ToArray();
        }

        return vectors;
    }
}

/// <summary>Core's span catalog: spans by id, with their heading trail and text exactly as they were cut.</summary>
public sealed class PostgresSpanCatalog(PostgresDatabase database) : ISpanCatalog
{
    /// <inheritdoc />
    public IReadOnlyDictionary<long, SpanRecord> Get(IReadOnlyCollection<long> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var result = new Dictionary<long, SpanRecord>(ids.Count);
        if (ids.Count == 0)
        {
            return result;
        }

        using var session = PgSession.Begin(database.DataSource);
        var connection = session.Connection;
        using var select = PgSql.Command(connection, null, """
            SELECT id, tenant, corpus, path, start_line, end_line, heading, exact_text, tokens FROM spans WHERE id = ANY($1)
            """, ids.ToArray());
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            var key = new SpanKey(reader.GetInt64(0), PostgresCorpusKeys.KeyOf(reader.GetString(1), reader.GetString(2)), reader.GetString(3), reader.GetInt32(4));
            result[key.Id] = new SpanRecord(key, reader.GetInt32(5), PostgresText.Read(reader, 6)!, PostgresText.Read(reader, 7)!, reader.GetInt32(8));
        }

        return result;
    }
}

/// <summary>The <see cref="RetrievalFilter"/> as SQL over <c>spans s</c>, for both retrievers; its parameters follow $1 and $2.</summary>
internal static class SpanFilter
{
    /// <summary>The WHERE condition: the corpora (tenant and name pairs, unnested in step) and the path prefix, each only when given.</summary>
    public static string Sql(RetrievalFilter filter, IReadOnlyList<CorpusRef>? corpora)
    {
        var conditions = new List<string> { "true" };
        if (corpora is not null)
        {
            conditions.Add("(s.tenant, s.corpus) IN (SELECT t, c FROM unnest($3::text[], $4::text[]) AS r(t, c))");
        }

        if (filter.PathPrefix is not null)
        {
            conditions.Add(corpora is null ? "starts_with(s.path, $3)" : "starts_with(s.path, $5)");
        }

        return string.Join(" AND ", conditions);
    }

    /// <summary>Binds what <see cref="Sql"/> refers to, in its order.</summary>
    public static void Bind(NpgsqlCommand command, RetrievalFilter filter, IReadOnlyList<CorpusRef>? corpora)
    {
        if (corpora is not null)
        {
            command.Parameters.Add(PgSql.TextArray(corpora.Select(c => c.Tenant)));
            command.Parameters.Add(PgSql.TextArray(corpora.Select(c => c.Corpus)));
        }

        if (filter.PathPrefix is not null)
        {
            command.Parameters.Add(PgSql.Text(filter.PathPrefix));
        }
    }

    /// <summary>
    /// The hits, best first; equal scores in citation order (corpus, path, line), never by id, as Core ranks them.
    /// </summary>
    public static List<RankedSpan> ReadRanked(NpgsqlCommand command, Func<double, double> score)
    {
        var hits = new List<RankedSpan>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var key = new SpanKey(reader.GetInt64(0), PostgresCorpusKeys.KeyOf(reader.GetString(1), reader.GetString(2)), reader.GetString(3), reader.GetInt32(4));
            hits.Add(new RankedSpan(key, score(reader.GetDouble(5))));
        }

        return Ranking.Order(hits, h => h.Score, h => h.Key);
    }
}
