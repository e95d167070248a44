using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using ContextCompiler.Core.Text;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Storage.Postgres.Copy;

/// <summary>
/// One row as the copy moves it, in the target's shape: both stores are read into these, so counting and hashing the
/// same rows on both sides compares what was written with what was read, value for value.
/// </summary>
public interface ICopyRow
{
    /// <summary>The row's key as text that sorts rows into one canonical order (ordinal comparison).</summary>
    string Key { get; }

    /// <summary>The values hashed, in a fixed order.</summary>
    IReadOnlyList<object?> Values { get; }
}

/// <summary>A corpus: (tenant, name), tenant <c>''</c> for the operator's.</summary>
public sealed record CorpusRow(string Tenant, string Name, bool Shared, DateTimeOffset CreatedAt) : ICopyRow
{
    /// <inheritdoc />
    public string Key => CopyKeys.Of(Tenant, Name);

    /// <inheritdoc />
    public IReadOnlyList<object?> Values => [Tenant, Name, Shared, CreatedAt];
}

/// <summary>A document (SQLite's artifact), keeping its id so that nothing naming it changes.</summary>
public sealed record DocumentRow(
    long Id, string Tenant, string Corpus, string Path, string Kind, string? MediaType, string ContentHash, string Content, string? Original,
    long Bytes, string Chunking, DateTimeOffset CreatedAt) : ICopyRow
{
    /// <inheritdoc />
    public string Key => CopyKeys.Of(Id);

    /// <inheritdoc />
    public IReadOnlyList<object?> Values => [Id, Tenant, Corpus, Path, Kind, MediaType, ContentHash, Content, Original, Bytes, Chunking, CreatedAt];
}

/// <summary>A span with its vector (null when it has none yet), keeping its id, which working sets and citations name.</summary>
public sealed record SpanRow(
    long Id, string Tenant, string Corpus, string Path, int Ordinal, int StartLine, int EndLine, int Tokens, string Heading, string Text,
    string ExactText, float[]? Embedding) : ICopyRow
{
    /// <inheritdoc />
    public string Key => CopyKeys.Of(Id);

    /// <inheritdoc />
    public IReadOnlyList<object?> Values => [Id, Tenant, Corpus, Path, Ordinal, StartLine, EndLine, Tokens, Heading, Text, ExactText, Embedding];
}

/// <summary>A session.</summary>
public sealed record SessionRow(
    string Tenant, string Id, string? UserId, string Status, string? Metadata, string? Budgets, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    int MessageCount) : ICopyRow
{
    /// <inheritdoc />
    public string Key => CopyKeys.Of(Tenant, Id);

    /// <inheritdoc />
    public IReadOnlyList<object?> Values => [Tenant, Id, UserId, Status, Metadata, Budgets, CreatedAt, UpdatedAt, MessageCount];
}

/// <summary>A message with its working set and citation check exactly as stored.</summary>
public sealed record MessageRow(
    string Tenant, string SessionId, int Sequence, string Id, string Role, string Content, string? Metadata, string? WorkingSet,
    string? CitationCheck, DateTimeOffset CreatedAt) : ICopyRow
{
    /// <inheritdoc />
    public string Key => CopyKeys.Of(Tenant, SessionId, Sequence);

    /// <inheritdoc />
    public IReadOnlyList<object?> Values => [Tenant, SessionId, Sequence, Id, Role, Content, Metadata, WorkingSet, CitationCheck, CreatedAt];
}

/// <summary>A turn's budgets, named by its message's place in the session.</summary>
public sealed record TurnBudgetRow(string Tenant, string SessionId, int Sequence, int HistoryBudget, int HistoryTokens, int? TotalBudget) : ICopyRow
{
    /// <inheritdoc />
    public string Key => CopyKeys.Of(Tenant, SessionId, Sequence);

    /// <inheritdoc />
    public IReadOnlyList<object?> Values => [Tenant, SessionId, Sequence, HistoryBudget, HistoryTokens, TotalBudget];
}

/// <summary>An unexpired idempotency key with the response it saved.</summary>
public sealed record IdempotencyKeyRow(
    string Tenant, string IdempotencyKey, string Fingerprint, int Status, string Body, string? Location, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt) : ICopyRow
{
    /// <inheritdoc />
    public string Key => CopyKeys.Of(Tenant, IdempotencyKey);

    /// <inheritdoc />
    public IReadOnlyList<object?> Values => [Tenant, IdempotencyKey, Fingerprint, Status, Body, Location, CreatedAt, ExpiresAt];
}

/// <summary>Sort keys and the canonical hash of a table's rows.</summary>
public static class CopyKeys
{
    /// <summary>A sort key of <paramref name="parts"/>: numbers zero-padded so that ordinal order is numeric order.</summary>
    public static string Of(params object[] parts) => string.Join('\u0001', parts.Select(p => p switch
    {
        long n => n.ToString("D20", CultureInfo.InvariantCulture),
        int n => n.ToString("D10", CultureInfo.InvariantCulture),
        _ => Convert.ToString(p, CultureInfo.InvariantCulture),
    }));

    /// <summary>
    /// SHA-256 (hex) over <paramref name="rows"/> in key order, each value tagged with its type and length-prefixed, so
    /// that no two different tables of values give the same byte stream. Text is hashed as its WTF-8 bytes (exact, NUL
    /// and lone surrogates included), times as UTC ticks, vectors as their float32 bits.
    /// </summary>
    public static string Hash(IEnumerable<ICopyRow> rows)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var number = new byte[8];
        void Tagged(byte tag, ReadOnlySpan<byte> bytes)
        {
            hash.AppendData([tag]);
            BinaryPrimitives.WriteInt64LittleEndian(number, bytes.Length);
            hash.AppendData(number);
            hash.AppendData(bytes);
        }

        foreach (var row in rows.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            hash.AppendData("R"u8);
            foreach (object? value in row.Values)
            {
                switch (value)
                {
                    case null:
                        Tagged((byte)'N', []);
                        break;
                    case string text:
                        Tagged((byte)'S', Wtf8.Encode(text));
                        break;
                    case bool flag:
                        Tagged((byte)'B', [flag ? (byte)1 : (byte)0]);
                        break;
                    case int or long:
                        var integer = new byte[8];
                        BinaryPrimitives.WriteInt64LittleEndian(integer, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                        Tagged((byte)'I', integer);
                        break;
                    case DateTimeOffset time:
                        var ticks = new byte[8];
                        BinaryPrimitives.WriteInt64LittleEndian(ticks, time.UtcTicks);
                        Tagged((byte)'T', ticks);
                        break;
                    case float[] vector:
                        Tagged((byte)'V', System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector.AsSpan()));
                        break;
                    default:
                        throw new InvalidOperationException($"No canonical form for {value.GetType()}.");
                }
            }
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
