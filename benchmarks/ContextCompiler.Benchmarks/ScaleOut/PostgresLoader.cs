using System.Diagnostics;
using System.Runtime.InteropServices;
using ContextCompiler.Benchmarks.Quick;
using ContextCompiler.Core.Text;
using ContextCompiler.Storage.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace ContextCompiler.Benchmarks.ScaleOut;

/// <summary>A document to load, with its spans.</summary>
internal sealed record LoadDocument(string Corpus, string Path, string Kind, string ContentHash, string Chunking, string Content, long Bytes, IReadOnlyList<LoadSpan> Spans);

/// <summary>A span to load; <see cref="Vector"/> null leaves it for the vector fillers.</summary>
internal sealed record LoadSpan(int Ordinal, int StartLine, int EndLine, string Heading, string Text, int Tokens, float[]? Vector);

/// <summary>How long each step of a load took, and the sizes of the two search indexes it built.</summary>
internal sealed record LoadReport(int Documents, int Spans, TimeSpan Migrate, TimeSpan Insert, TimeSpan HnswBuild, TimeSpan Bm25Build, long HnswBytes, long Bm25Bytes, long TableBytes);

/// <summary>
/// Fills a PostgreSQL database for the benchmark in the store's own schema: the store's migrations first (what
/// <c>contextc migrate</c> applies), then documents and spans by multi-row INSERTs straight into the store's tables, so that
/// the store's own retrievers, catalog and vector fillers then work on them. Inserting 100,000 spans one artifact at a
/// time through the store (each a transaction that also maintains the HNSW and BM25 indexes row by row) would take far
/// longer on PGlite than the run's budget.
/// </summary>
/// <remarks>
/// The two search indexes are dropped before the inserts and created again after it, with the same definitions as
/// migration 1: the end state is the migrated schema holding the rows, and the rebuild times are the HNSW and BM25
/// build times of that many spans. Row values follow what the store's own writer (PostgresSpanWriter) stores: exact
/// text as WTF-8 bytes, the searchable text as path words, heading trail and body.
/// </remarks>
internal static class PostgresLoader
{
    /// <summary>pgvector builds the graph in memory when it fits in maintenance_work_mem, and much more slowly on disk when not.</summary>
    public const string MaintenanceWorkMem = "1GB";

    private const string HnswDefinition = "CREATE INDEX spans_embedding_hnsw ON spans USING hnsw (embedding vector_cosine_ops)";
    private const string Bm25Definition = "CREATE INDEX spans_bm25 ON spans USING bm25 (text) WITH (text_config = 'english')";

    /// <summary>The documents of a real index as they are (one corpus or several), with their stored vectors unless <paramref name="withVectors"/> is false.</summary>
    public static IEnumerable<LoadDocument> Real(SyntheticIndex.Source source, string corpus, bool withVectors, int maxSpans = int.MaxValue)
    {
        int spans = 0;
        foreach (var artifact in source.Artifacts)
        {
            if (spans >= maxSpans)
            {
                yield break;
            }

            var taken = artifact.Spans.Take(maxSpans - spans).Select(s => Span(s, withVectors)).ToList();
            spans += taken.Count;
            yield return new LoadDocument(corpus, artifact.Path, artifact.Kind, artifact.ContentHash, artifact.Chunking, artifact.Content, artifact.Bytes, taken);
        }
    }

    /// <summary>
    /// Exactly the spans <see cref="SyntheticIndex.Build"/> writes for <paramref name="spans"/>: copies of the real
    /// documents under corpus "synthetic", paths <c>copyNNN/&lt;path&gt;</c>, in the same order, so that the SQLite and
    /// the PostgreSQL index of one size hold the same spans with the same vectors. With <paramref name="jitter"/> above
    /// 0 every copy after the first gets its vectors moved by seeded Gaussian noise of that standard deviation per
    /// dimension (then normalised again), so that no two spans share a vector: pgvector's HNSW keeps identical vectors
    /// as one graph element (up to 10 heap tuples each), which would make the index of exact copies smaller, faster to
    /// build and differently searched than one of 100,000 distinct passages.
    /// </summary>
    public static IEnumerable<LoadDocument> Synthetic(SyntheticIndex.Source source, int spans, double jitter = 0)
    {
        int written = 0;
        for (int copy = 0; written < spans; copy++)
        {
            foreach (var artifact in source.Artifacts)
            {
                if (written >= spans)
                {
                    yield break;
                }

                var taken = artifact.Spans.Take(spans - written).Select(s => Span(s, withVectors: true)).ToList();
                if (copy > 0 && jitter > 0)
                {
                    taken = taken.Select((s, i) => s with { Vector = Jitter(s.Vector!, jitter, written + i) }).ToList();
                }

                written += taken.Count;
                yield return new LoadDocument(SyntheticIndex.Corpus, $"copy{copy:D3}/{artifact.Path}", artifact.Kind, artifact.ContentHash,
                    artifact.Chunking, artifact.Content, artifact.Bytes, taken);
            }
        }
    }

    /// <summary>Migrates the empty database at <paramref name="connectionString"/> and loads <paramref name="documents"/> into it.</summary>
    public static async Task<LoadReport> LoadAsync(string connectionString, IEnumerable<LoadDocument> documents)
    {
        var clock = Stopwatch.StartNew();
        await using (var database = new PostgresDatabase(connectionString))
        {
            await database.MigrateAsync();
        }

        var migrate = clock.Elapsed;
        // The data source the store itself builds: pgvector's types mapped (after the migration created the extension).
        await using var store = new PostgresDatabase(connectionString);
        await using var connection = await store.DataSource.OpenConnectionAsync();
        await Execute(connection, "DROP INDEX spans_embedding_hnsw");
        await Execute(connection, "DROP INDEX spans_bm25");

        clock.Restart();
        var list = documents.ToList();
        var now = DateTimeOffset.UtcNow;
        foreach (string corpus in list.Select(d => d.Corpus).Distinct(StringComparer.Ordinal))
        {
            await using var insert = new NpgsqlCommand("INSERT INTO corpora (tenant, name, shared, created_at, updated_at) VALUES ('', $1, true, $2, $2)", connection);
            insert.Parameters.Add(new NpgsqlParameter { Value = corpus });
            insert.Parameters.Add(new NpgsqlParameter { Value = now });
            await insert.ExecuteNonQueryAsync();
        }

        // Multi-row INSERTs of arrays unnested in step (as the store's own writer inserts an artifact's spans), a few
        // hundred rows per statement. pglite-socket does not take COPY FROM STDIN (the connection breaks), so this is
        // the fastest way in over its wire protocol.
        foreach (var batch in list.Chunk(500))
        {
            await using var insert = new NpgsqlCommand("""
                INSERT INTO documents (tenant, corpus, path, kind, content_hash, content, bytes, chunking, generation, created_at, updated_at)
                SELECT '', corpus, path, kind, content_hash, content, bytes, chunking, 1, $8, $8
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::bigint[], $7::text[])
                    AS d(corpus, path, kind, content_hash, content, bytes, chunking)
                """, connection);
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(d => d.Corpus).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(d => d.Path).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(d => d.Kind).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(d => d.ContentHash).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(d => Wtf8.Encode(d.Content)).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(d => d.Bytes).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(d => d.Chunking).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = now });
            await insert.ExecuteNonQueryAsync();
        }

        int spans = 0;
        var rows = list.SelectMany(d => d.Spans.Select(s => (Document: d, Span: s)));
        foreach (var batch in rows.Chunk(500))
        {
            // Vectors as pgvector's text form, cast in SQL: the same values (shortest round-trip float text), and it
            // needs no array mapping of the vector type. A span without a vector gets NULL, as the store leaves it.
            await using var insert = new NpgsqlCommand("""
                INSERT INTO spans (tenant, corpus, path, ordinal, start_line, end_line, tokens, heading, text, exact_text, embedding, generation, updated_at)
                SELECT '', corpus, path, ordinal, start_line, end_line, tokens, heading, text, exact_text, embedding::vector(384), 1, $11
                FROM unnest($1::text[], $2::text[], $3::integer[], $4::integer[], $5::integer[], $6::integer[], $7::bytea[], $8::text[], $9::bytea[], $10::text[])
                    AS s(corpus, path, ordinal, start_line, end_line, tokens, heading, text, exact_text, embedding)
                """, connection);
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(r => r.Document.Corpus).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(r => r.Document.Path).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(r => r.Span.Ordinal).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(r => r.Span.StartLine).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(r => r.Span.EndLine).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(r => r.Span.Tokens).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(r => Wtf8.Encode(r.Span.Heading)).ToArray() });
            // The store's searchable text (PostgresSpanWriter.Searchable): path as words, heading trail, body.
            insert.Parameters.Add(new NpgsqlParameter
            {
                Value = batch.Select(r => SearchableText.Of(r.Document.Path.Replace('/', ' ') + "\n" + r.Span.Heading + "\n" + r.Span.Text)).ToArray(),
            });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(r => Wtf8.Encode(r.Span.Text)).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter
            {
                Value = batch.Select(r => r.Span.Vector is null ? null : VectorText(r.Span.Vector)).ToArray(),
                NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text,
            });
            insert.Parameters.Add(new NpgsqlParameter { Value = now });
            spans += await insert.ExecuteNonQueryAsync();
        }

        var copy = clock.Elapsed;
        await Execute(connection, $"SET maintenance_work_mem = '{MaintenanceWorkMem}'");
        clock.Restart();
        await Execute(connection, HnswDefinition);
        var hnsw = clock.Elapsed;
        clock.Restart();
        await Execute(connection, Bm25Definition);
        var bm25 = clock.Elapsed;
        await Execute(connection, "RESET maintenance_work_mem");
        await Execute(connection, "ANALYZE");
        long hnswBytes = await Size(connection, "pg_relation_size('spans_embedding_hnsw')");
        long bm25Bytes = await Size(connection, "pg_relation_size('spans_bm25')");
        long tableBytes = await Size(connection, "pg_table_size('spans')");
        return new LoadReport(list.Count, spans, migrate, copy, hnsw, bm25, hnswBytes, bm25Bytes, tableBytes);
    }

    // Seeded by the span's number, so a run can be repeated exactly.
    private static float[] Jitter(float[] vector, double sigma, int seed)
    {
        var random = new Random(seed);
        var moved = new float[vector.Length];
        double norm = 0;
        for (int i = 0; i < vector.Length; i++)
        {
            // Box-Muller: one standard normal from two uniforms.
            double gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            moved[i] = (float)(vector[i] + sigma * gaussian);
            norm += moved[i] * (double)moved[i];
        }

        float scale = (float)(1 / Math.Sqrt(norm));
        for (int i = 0; i < moved.Length; i++)
        {
            moved[i] *= scale;
        }

        return moved;
    }

    private static string VectorText(float[] vector) =>
        "[" + string.Join(',', vector.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]";

    private static LoadSpan Span(SyntheticIndex.SourceSpan s, bool withVectors) =>
        new(s.Ordinal, s.StartLine, s.EndLine, s.Heading, s.Text, s.Tokens, withVectors ? MemoryMarshal.Cast<byte, float>(s.Vector).ToArray() : null);

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> Size(NpgsqlConnection connection, string expression)
    {
        await using var command = new NpgsqlCommand("SELECT " + expression, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
