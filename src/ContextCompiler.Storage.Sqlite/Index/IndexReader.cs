using System.Globalization;
using Microsoft.Data.Sqlite;
using ContextCompiler.Engine.Index;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>One stored span with its citation, as <c>contextc export</c> writes it.</summary>
public sealed record ExportedSpan(string Corpus, string Path, int StartLine, int EndLine, string Text, int Tokens);

/// <summary>Counts for one corpus in the index.</summary>
public sealed record CorpusStats(string Corpus, int Artifacts, long Spans, long Tokens, long Bytes);

/// <summary>A summary of the whole index.</summary>
public sealed record IndexStats(
    string Path, int SchemaVersion, string EmbeddingModel, int EmbeddingDimensions, long IndexGeneration,
    int Artifacts, long Spans, long Tokens, long Vectors, long FileBytes, IReadOnlyList<CorpusStats> Corpora);

/// <summary>Read-only queries over the span index. Every result is ordered by corpus, path and line, never by id.</summary>
public sealed class IndexReader(IndexStore store)
{
    /// <summary>Every span, in corpus, path and line order.</summary>
    public IEnumerable<ExportedSpan> ExportSpans()
    {
        using var connection = store.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT a.corpus, a.path, s.start_line, s.end_line, s.text, s.tokens
            FROM spans s JOIN artifacts a ON a.id = s.artifact_id
            ORDER BY a.corpus, a.path, s.start_line, s.end_line
            """;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            yield return new ExportedSpan(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3), reader.GetString(4), reader.GetInt32(5));
        }
    }

    /// <summary>What is stored for each path of <paramref name="corpus"/>.</summary>
    public Dictionary<string, StoredArtifact> Artifacts(string corpus)
    {
        using var connection = store.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT path, id, content_hash, chunking FROM artifacts WHERE corpus = $corpus";
        command.Parameters.AddWithValue("$corpus", corpus);
        using var reader = command.ExecuteReader();
        var result = new Dictionary<string, StoredArtifact>(StringComparer.Ordinal);
        while (reader.Read())
        {
            result[reader.GetString(0)] = new StoredArtifact(reader.GetInt64(1), reader.GetString(2), reader.GetString(3));
        }

        return result;
    }

    /// <summary>Span and token totals per path of <paramref name="corpus"/>.</summary>
    public Dictionary<string, (long Spans, long Tokens)> SpanTotals(string corpus)
    {
        using var connection = store.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT a.path, COUNT(s.id), COALESCE(SUM(s.tokens), 0)
            FROM artifacts a LEFT JOIN spans s ON s.artifact_id = a.id
            WHERE a.corpus = $corpus GROUP BY a.path
            """;
        command.Parameters.AddWithValue("$corpus", corpus);
        using var reader = command.ExecuteReader();
        var result = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        while (reader.Read())
        {
            result[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
        }

        return result;
    }

    /// <summary>Every stored embedding (little-endian float32 bytes) by span id, read from the vec0 table.</summary>
    public static Dictionary<long, byte[]> Vectors(SqliteConnection connection)
    {
        var vectors = new Dictionary<long, byte[]>();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT rowid, embedding FROM span_vectors";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            vectors[reader.GetInt64(0)] = (byte[])reader.GetValue(1);
        }

        return vectors;
    }

    /// <summary>Counts over the whole index.</summary>
    public IndexStats Stats()
    {
        using var connection = store.OpenConnection();
        var corpora = new List<CorpusStats>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT a.corpus, COUNT(DISTINCT a.id), COUNT(s.id), COALESCE(SUM(s.tokens), 0),
                       (SELECT COALESCE(SUM(bytes), 0) FROM artifacts b WHERE b.corpus = a.corpus)
                FROM artifacts a LEFT JOIN spans s ON s.artifact_id = a.id
                GROUP BY a.corpus ORDER BY a.corpus
                """;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                corpora.Add(new CorpusStats(reader.GetString(0), reader.GetInt32(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)));
            }
        }

        long vectors = Convert.ToInt64(IndexStore.Scalar(connection, "SELECT COUNT(*) FROM span_vectors"), CultureInfo.InvariantCulture);
        return new IndexStats(
            store.Path,
            Convert.ToInt32(IndexStore.Scalar(connection, "SELECT MAX(version) FROM schema_version"), CultureInfo.InvariantCulture),
            store.Model.Id,
            store.Model.Dimensions,
            long.Parse(IndexStore.MetaValue(connection, null, "index_generation") ?? "0", CultureInfo.InvariantCulture),
            corpora.Sum(c => c.Artifacts),
            corpora.Sum(c => c.Spans),
            corpora.Sum(c => c.Tokens),
            vectors,
            new FileInfo(store.Path).Length,
            corpora);
    }
}
