using ContextCompiler.Core.Ingest;
using Microsoft.Data.Sqlite;
using ContextCompiler.Engine.Index;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>
/// Writes artifacts with their spans and FTS rows inside one caller-owned transaction, so each batch of files lands
/// whole or not at all. Text is searchable as soon as it commits; <see cref="VectorIndexer"/> adds the vectors after.
/// </summary>
public sealed class SpanIndexWriter : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteTransaction _transaction;
    private readonly SqliteCommand _insertArtifact;
    private readonly SqliteCommand _insertSpan;
    private readonly SqliteCommand _insertFts;
    private readonly SqliteCommand _deleteArtifact;
    private readonly TimeProvider _clock;

    /// <summary>Prepares the statements on <paramref name="transaction"/>; <paramref name="clock"/> stamps each artifact's ingest time.</summary>
    public SpanIndexWriter(SqliteConnection connection, SqliteTransaction transaction, TimeProvider clock)
    {
        _connection = connection;
        _transaction = transaction;
        _clock = clock;
        _insertArtifact = Prepare(
            """
            INSERT INTO artifacts (corpus, path, kind, content_hash, chunking, content, bytes, ingested_at)
            VALUES ($corpus, $path, $kind, $hash, $chunking, $content, $bytes, $at) RETURNING id
            """, "$corpus", "$path", "$kind", "$hash", "$chunking", "$content", "$bytes", "$at");
        _insertSpan = Prepare(
            """
            INSERT INTO spans (artifact_id, ordinal, start_line, end_line, heading, text, tokens)
            VALUES ($artifact, $ordinal, $start, $end, $heading, $text, $tokens) RETURNING id
            """, "$artifact", "$ordinal", "$start", "$end", "$heading", "$text", "$tokens");
        _insertFts = Prepare("INSERT INTO span_fts (rowid, title, heading, body) VALUES ($id, $title, $heading, $body)", "$id", "$title", "$heading", "$body");
        _deleteArtifact = Prepare("DELETE FROM artifacts WHERE id = $id", "$id");
    }

    /// <summary>Removes an artifact with its spans (triggers clear the FTS and vector rows).</summary>
    public void Delete(long artifactId)
    {
        _deleteArtifact.Parameters["$id"].Value = artifactId;
        if (_deleteArtifact.ExecuteNonQuery() != 1)
        {
            throw new InvalidOperationException($"Artifact {artifactId} does not exist.");
        }
    }

    /// <summary>Writes <paramref name="artifact"/>, replacing <paramref name="previous"/> if given.</summary>
    public void Write(PreparedArtifact artifact, StoredArtifact? previous)
    {
        if (previous is not null)
        {
            Delete(previous.Id);
        }

        Set(_insertArtifact, artifact.Corpus, artifact.Path, artifact.Kind.ToString().ToLowerInvariant(), artifact.ContentHash,
            artifact.Chunking, artifact.Content, artifact.Bytes, Timestamps.Format(_clock.GetUtcNow()));
        long artifactId = (long)_insertArtifact.ExecuteScalar()!;
        var title = artifact.Path.Replace('/', ' ');
        for (int i = 0; i < artifact.Chunks.Count; i++)
        {
            var chunk = artifact.Chunks[i];
            Set(_insertSpan, artifactId, i, chunk.StartLine, chunk.EndLine, chunk.Heading, chunk.Text, chunk.Tokens);
            long spanId = (long)_insertSpan.ExecuteScalar()!;
            Set(_insertFts, spanId, title, chunk.Heading, chunk.Text);
            _insertFts.ExecuteNonQuery();
        }
    }

    /// <summary>Disposes the prepared statements; the transaction stays with the caller.</summary>
    public void Dispose()
    {
        foreach (var command in new[] { _insertArtifact, _insertSpan, _insertFts, _deleteArtifact })
        {
            command.Dispose();
        }
    }

    private SqliteCommand Prepare(string sql, params string[] names)
    {
        var command = _connection.CreateCommand();
        command.Transaction = _transaction;
        command.CommandText = sql;
        foreach (var name in names)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        return command;
    }

    private static void Set(SqliteCommand command, params object[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i];
        }
    }
}
