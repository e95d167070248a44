using ContextCompiler.Core.Text;
using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace ContextCompiler.Storage.Postgres;

/// <summary>A corpus a search reads: its owner (the operator's corpora are tenant "") and its name.</summary>
public readonly record struct CorpusRef(string Tenant, string Corpus);

/// <summary>A span a search found, and its score: higher is better (BM25, or cosine similarity for vectors).</summary>
public readonly record struct SpanHit(string Tenant, long SpanId, double Score);

/// <summary>How the searches run.</summary>
public sealed record PostgresSearchOptions
{
    /// <summary>
    /// pgvector's <c>hnsw.ef_search</c>: the candidate list of an HNSW scan, set per query; larger is more accurate and
    /// slower, and it should be at least k. The tenant and corpus filter applies after the index, so without
    /// <see cref="IterativeScan"/> it is also all the rows the filter can choose from. pgvector's own default is 40.
    /// </summary>
    public int EfSearch { get; init; } = 100;

    /// <summary>
    /// pgvector's <c>hnsw.iterative_scan</c> (0.8 and later): <c>strict_order</c> lets an HNSW scan go on past
    /// <see cref="EfSearch"/> candidates while the filter has left fewer than k, in exact distance order, so another
    /// tenant's nearer vectors cannot crowd a tenant's own out of its results (up to pgvector's
    /// <c>hnsw.max_scan_tuples</c>, 20,000 by default); <c>off</c> restores the plain scan.
    /// </summary>
    public string IterativeScan { get; init; } = "strict_order";
}

/// <summary>
/// The two top-k queries of the PostgreSQL store, each restricted to the corpora a tenant reads: BM25 through
/// pg_textsearch's <c>spans_bm25</c> index and nearest vectors by cosine through <c>spans_embedding_hnsw</c>.
/// </summary>
/// <remarks>
/// pg_textsearch keeps its statistics (document count, average length, document frequencies) over the whole index,
/// every tenant's spans together, just as FTS5 does over the whole SQLite index: a tenant's scores depend on what other
/// tenants ingested, and only the filter keeps their spans out of the results.
/// </remarks>
public sealed class PostgresSpanSearch(NpgsqlDataSource dataSource, PostgresSearchOptions? options = null)
{
    private readonly PostgresSearchOptions _options = options ?? new PostgresSearchOptions();

    // unnest of two arrays pairs them up: one round trip however many corpora, and the same plan for any count.
    private const string CorpusFilter = "(s.tenant, s.corpus) IN (SELECT t, c FROM unnest($2::text[], $3::text[]) AS r(t, c))";

    /// <summary>
    /// The BM25 query: $1 the searchable query text, $2 and $3 the corpora's tenants and names, $4 k. <c>&lt;@&gt;</c> is a
    /// negative BM25 score (lower is better), so it orders ascending and the caller negates it. The LIMIT is what lets
    /// the index return the top k; without one pg_textsearch scores at most 1000 rows. A span none of whose terms match
    /// scores 0 and is no hit.
    /// </summary>
    internal const string Bm25Sql = $"""
        SELECT tenant, id, score FROM (
            SELECT s.tenant, s.id, s.text <@> to_bm25query($1, 'spans_bm25') AS score
            FROM spans s
            WHERE {CorpusFilter}
            ORDER BY s.text <@> to_bm25query($1, 'spans_bm25')
            LIMIT $4
        ) AS top
        WHERE score < 0
        ORDER BY score, id
        """;

    /// <summary>The vector query: $1 the query vector, $2 and $3 the corpora's tenants and names, $4 k.</summary>
    internal const string NearestSql = $"""
        SELECT s.tenant, s.id, s.embedding <=> $1 AS distance
        FROM spans s
        WHERE s.embedding IS NOT NULL AND {CorpusFilter}
        ORDER BY s.embedding <=> $1
        LIMIT $4
        """;

    /// <summary>The <paramref name="k"/> best spans for <paramref name="query"/> by BM25 in <paramref name="corpora"/>, best first.</summary>
    public async Task<IReadOnlyList<SpanHit>> Bm25Async(string query, IReadOnlyList<CorpusRef> corpora, int k,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(corpora);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        string searchable = SearchableText.Of(query);
        if (corpora.Count == 0 || string.IsNullOrWhiteSpace(searchable))
        {
            return [];
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(Bm25Sql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = searchable, NpgsqlDbType = NpgsqlDbType.Text });
        AddCorpora(command, corpora);
        command.Parameters.Add(new NpgsqlParameter { Value = k });
        return await ReadHitsAsync(command, score => -score, cancellationToken);
    }

    /// <summary>The <paramref name="k"/> spans nearest to <paramref name="vector"/> by cosine in <paramref name="corpora"/>, nearest first; the score is the cosine similarity.</summary>
    public async Task<IReadOnlyList<SpanHit>> NearestAsync(ReadOnlyMemory<float> vector, IReadOnlyList<CorpusRef> corpora, int k,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(corpora);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        if (corpora.Count == 0)
        {
            return [];
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // SET LOCAL: the setting ends with the transaction, so it never leaks to the next user of the pooled connection
        // (or, on PGlite, to the other connections that share its one backend session).
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ApplyVectorSettingsAsync(connection, transaction, cancellationToken);

        await using var command = new NpgsqlCommand(NearestSql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = new Vector(vector) });
        AddCorpora(command, corpora);
        command.Parameters.Add(new NpgsqlParameter { Value = k });
        var hits = await ReadHitsAsync(command, distance => 1 - distance, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return hits;
    }

    /// <summary>As <see cref="Bm25Async(string, IReadOnlyList{CorpusRef}, int, CancellationToken)"/>, in <paramref name="tenant"/>'s own corpora.</summary>
    public Task<IReadOnlyList<SpanHit>> Bm25Async(string query, string tenant, IReadOnlyList<string> corpora, int k,
        CancellationToken cancellationToken = default) =>
        Bm25Async(query, Own(tenant, corpora), k, cancellationToken);

    /// <summary>As <see cref="NearestAsync(ReadOnlyMemory{float}, IReadOnlyList{CorpusRef}, int, CancellationToken)"/>, in <paramref name="tenant"/>'s own corpora.</summary>
    public Task<IReadOnlyList<SpanHit>> NearestAsync(ReadOnlyMemory<float> vector, string tenant, IReadOnlyList<string> corpora, int k,
        CancellationToken cancellationToken = default) =>
        NearestAsync(vector, Own(tenant, corpora), k, cancellationToken);

    /// <summary>Sets <see cref="PostgresSearchOptions"/>' pgvector settings for the rest of <paramref name="transaction"/> only.</summary>
    internal async Task ApplyVectorSettingsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var set = VectorSettingsCommand(_options, connection, transaction);
        await set.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The command that sets <paramref name="options"/>' pgvector settings for the rest of <paramref name="transaction"/> only.</summary>
    internal static NpgsqlCommand VectorSettingsCommand(PostgresSearchOptions options, NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        var set = new NpgsqlCommand(
            "SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', $2, true)", connection, transaction);
        set.Parameters.Add(new NpgsqlParameter { Value = options.EfSearch.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        set.Parameters.Add(new NpgsqlParameter { Value = options.IterativeScan });
        return set;
    }

    private static CorpusRef[] Own(string tenant, IReadOnlyList<string> corpora)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(corpora);
        return [.. corpora.Select(corpus => new CorpusRef(tenant, corpus))];
    }

    private static void AddCorpora(NpgsqlCommand command, IReadOnlyList<CorpusRef> corpora)
    {
        command.Parameters.Add(new NpgsqlParameter { Value = corpora.Select(c => c.Tenant).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = corpora.Select(c => c.Corpus).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
    }

    private static async Task<IReadOnlyList<SpanHit>> ReadHitsAsync(NpgsqlCommand command, Func<double, double> score,
        CancellationToken cancellationToken)
    {
        var hits = new List<SpanHit>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            hits.Add(new SpanHit(reader.GetString(0), reader.GetInt64(1), score(reader.GetDouble(2))));
        }

        return hits;
    }
}
