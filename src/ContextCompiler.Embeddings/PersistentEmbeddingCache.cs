using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using ContextCompiler.Core.Telemetry;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.AI;

namespace ContextCompiler.Embeddings;

/// <summary>
/// Never embeds the same text twice: passage embeddings are kept in their own SQLite file, keyed by (model, SHA-256 of
/// the text), so re-ingesting, re-chunking into the same spans, re-embedding an index and every later evaluation over
/// the same documents reuse them. Only the inputs not found go to the model, in one call.
/// </summary>
public sealed class PersistentEmbeddingCache : DelegatingEmbeddingGenerator<string, Embedding<float>>
{
    private readonly string _model;
    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();

    // Counted with Interlocked: concurrent calls (ingest, the background filler, compiles) update them outside _gate.
    private long _hits;
    private long _misses;

    /// <summary>Caches <paramref name="inner"/>'s embeddings for <paramref name="model"/> in the file <paramref name="path"/>.</summary>
    public PersistentEmbeddingCache(IEmbeddingGenerator<string, Embedding<float>> inner, string model, string path)
        : base(inner)
    {
        _model = model;
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, DefaultTimeout = 30 }.ToString());
        _connection.Open();
        using var setup = _connection.CreateCommand();
        setup.CommandText = """
            PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS embeddings (
                model  TEXT NOT NULL,
                hash   BLOB NOT NULL,
                vector BLOB NOT NULL,
                PRIMARY KEY (model, hash)
            ) WITHOUT ROWID;
            """;
        setup.ExecuteNonQuery();
    }

    /// <summary>Inputs answered from the file so far.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Inputs that went to the model so far.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <inheritdoc />
    public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var inputs = values as IReadOnlyList<string> ?? values.ToList();
        var hashes = inputs.Select(v => SHA256.HashData(Encoding.UTF8.GetBytes(v))).ToArray();
        var found = new float[inputs.Count][];
        lock (_gate)
        {
            using var select = _connection.CreateCommand();
            select.CommandText = "SELECT vector FROM embeddings WHERE model = $model AND hash = $hash";
            select.Parameters.AddWithValue("$model", _model);
            var hash = select.Parameters.Add("$hash", SqliteType.Blob);
            for (int i = 0; i < inputs.Count; i++)
            {
                hash.Value = hashes[i];
                if (select.ExecuteScalar() is byte[] blob)
                {
                    found[i] = MemoryMarshal.Cast<byte, float>(blob).ToArray();
                }
            }
        }

        var missing = Enumerable.Range(0, inputs.Count).Where(i => found[i] is null).ToList();
        Interlocked.Add(ref _hits, inputs.Count - missing.Count);
        Interlocked.Add(ref _misses, missing.Count);
        Instrumentation.CacheHits.Add(inputs.Count - missing.Count, new KeyValuePair<string, object?>(Tags.Cache, "passage"));
        Instrumentation.CacheMisses.Add(missing.Count, new KeyValuePair<string, object?>(Tags.Cache, "passage"));
        if (missing.Count > 0)
        {
            var fresh = await base.GenerateAsync(missing.Select(i => inputs[i]).ToList(), options, cancellationToken);
            lock (_gate)
            {
                using var transaction = _connection.BeginTransaction();
                using var insert = _connection.CreateCommand();
                insert.Transaction = transaction;
                insert.CommandText = "INSERT OR IGNORE INTO embeddings (model, hash, vector) VALUES ($model, $hash, $vector)";
                insert.Parameters.AddWithValue("$model", _model);
                var hash = insert.Parameters.Add("$hash", SqliteType.Blob);
                var vector = insert.Parameters.Add("$vector", SqliteType.Blob);
                for (int m = 0; m < missing.Count; m++)
                {
                    found[missing[m]] = fresh[m].Vector.ToArray();
                    hash.Value = hashes[missing[m]];
                    vector.Value = MemoryMarshal.AsBytes(fresh[m].Vector.Span).ToArray();
                    insert.ExecuteNonQuery();
                }

                transaction.Commit();
            }
        }

        return new GeneratedEmbeddings<Embedding<float>>(found.Select(v => new Embedding<float>(v) { ModelId = _model }));
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _connection.Dispose();
        }

        base.Dispose(disposing);
    }
}
