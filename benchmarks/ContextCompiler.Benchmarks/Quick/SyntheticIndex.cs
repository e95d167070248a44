using System.Diagnostics;
using ContextCompiler.Engine.Index;
using Microsoft.Data.Sqlite;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Benchmarks.Quick;

/// <summary>
/// Builds an index of an exact span count by replicating a real index's artifacts and spans under new paths
/// (corpus "synthetic", path "copyNNN/&lt;original path&gt;"). Text, headings, token counts and stored embeddings
/// are reused as they are, so FTS5 term statistics and vector distributions stay those of real documentation,
/// just repeated. Everything is written with plain SQL inserts inside one transaction.
/// </summary>
internal static class SyntheticIndex
{
    public const string Corpus = "synthetic";

    /// <summary>What was built.</summary>
    public sealed record Built(IndexStore Store, int Spans, int Artifacts, int Copies, TimeSpan Elapsed, long FileBytes);

    internal sealed record SourceSpan(int Ordinal, int StartLine, int EndLine, string Heading, string Text, int Tokens, byte[] Vector);

    internal sealed record SourceArtifact(string Path, string Kind, string ContentHash, string Chunking, string Content, long Bytes, List<SourceSpan> Spans);

    /// <summary>Copies of the real index's content in memory, read once and replicated into any number of synthetic indexes.</summary>
    public sealed class Source
    {
        private Source(IReadOnlyList<SourceArtifact> artifacts) => Artifacts = artifacts;

        internal IReadOnlyList<SourceArtifact> Artifacts { get; }

        public int SpanCount => Artifacts.Sum(a => a.Spans.Count);

        /// <summary>Reads every artifact, span and stored vector of <paramref name="store"/>.</summary>
        public static Source Read(IndexStore store)
        {
            using var connection = store.OpenConnection();
            var vectors = IndexReader.Vectors(connection);

            var artifacts = new Dictionary<long, SourceArtifact>();
            var order = new List<long>();
            using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT id, path, kind, content_hash, chunking, content, bytes FROM artifacts ORDER BY corpus, path";
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    long id = reader.GetInt64(0);
                    order.Add(id);
                    artifacts[id] = new SourceArtifact(
                        reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetInt64(6), []);
                }
            }

            using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT id, artifact_id, ordinal, start_line, end_line, heading, text, tokens FROM spans ORDER BY artifact_id, ordinal";
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    long id = reader.GetInt64(0);
                    if (!vectors.TryGetValue(id, out var vector))
                    {
                        throw new InvalidOperationException($"Span {id} has no stored vector.");
                    }

                    artifacts[reader.GetInt64(1)].Spans.Add(new SourceSpan(
                        reader.GetInt32(2), reader.GetInt32(3), reader.GetInt32(4), reader.GetString(5), reader.GetString(6), reader.GetInt32(7), vector));
                }
            }

            return new Source(order.Select(id => artifacts[id]).Where(a => a.Spans.Count > 0).ToList());
        }
    }

    /// <summary>Creates <paramref name="path"/> holding exactly <paramref name="spans"/> spans replicated from <paramref name="source"/>.</summary>
    public static Built Build(Source source, string path, string vec0Path, EmbeddingModel model, int spans)
    {
        if (source.SpanCount == 0)
        {
            throw new InvalidOperationException("The source index has no spans to replicate.");
        }

        var clock = Stopwatch.StartNew();
        var store = IndexStore.Open(path, vec0Path, model);
        int written = 0, artifactsWritten = 0, copy = 0;
        using (var connection = store.OpenConnection())
        {
            using var transaction = connection.BeginTransaction();
            using var artifact = Prepare(connection, transaction,
                "INSERT INTO artifacts (id, corpus, path, kind, content_hash, chunking, content, bytes, ingested_at) VALUES ($id, $corpus, $path, $kind, $hash, $chunking, $content, $bytes, $at)",
                "$id", "$corpus", "$path", "$kind", "$hash", "$chunking", "$content", "$bytes", "$at");
            using var span = Prepare(connection, transaction,
                "INSERT INTO spans (id, artifact_id, ordinal, start_line, end_line, heading, text, tokens) VALUES ($id, $artifact, $ordinal, $start, $end, $heading, $text, $tokens)",
                "$id", "$artifact", "$ordinal", "$start", "$end", "$heading", "$text", "$tokens");
            using var fts = Prepare(connection, transaction,
                "INSERT INTO span_fts (rowid, title, heading, body) VALUES ($id, $title, $heading, $body)", "$id", "$title", "$heading", "$body");
            using var vector = Prepare(connection, transaction,
                "INSERT INTO span_vectors (rowid, embedding) VALUES ($id, $embedding)", "$id", "$embedding");

            for (copy = 0; written < spans; copy++)
            {
                foreach (var original in source.Artifacts)
                {
                    if (written >= spans)
                    {
                        break;
                    }

                    long artifactId = ++artifactsWritten;
                    var replicaPath = $"copy{copy:D3}/{original.Path}";
                    Run(artifact, artifactId, Corpus, replicaPath, original.Kind, original.ContentHash, original.Chunking, original.Content, original.Bytes,
                        // The stored timestamp form (Storage's Timestamps, internal there): UTC, seven digits, 'Z'.
                        "2000-01-01T00:00:00.0000000Z");
                    // Same title rule as the ingest writer: the path with slashes as spaces.
                    var title = replicaPath.Replace('/', ' ');
                    foreach (var s in original.Spans)
                    {
                        if (written >= spans)
                        {
                            break;
                        }

                        long spanId = ++written;
                        Run(span, spanId, artifactId, s.Ordinal, s.StartLine, s.EndLine, s.Heading, s.Text, s.Tokens);
                        Run(fts, spanId, title, s.Heading, s.Text);
                        Run(vector, spanId, s.Vector);
                    }
                }
            }

            using (var generation = connection.CreateCommand())
            {
                generation.Transaction = transaction;
                generation.CommandText = "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'index_generation'";
                generation.ExecuteNonQuery();
            }

            transaction.Commit();
            using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            checkpoint.ExecuteNonQuery();
        }

        return new Built(store, written, artifactsWritten, copy, clock.Elapsed, new FileInfo(store.Path).Length);
    }

    private static SqliteCommand Prepare(SqliteConnection connection, SqliteTransaction transaction, string sql, params string[] names)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var name in names)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        return command;
    }

    private static void Run(SqliteCommand command, params object[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i];
        }

        command.ExecuteNonQuery();
    }
}
