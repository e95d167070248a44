using ContextCompiler.Core.Text;
using Microsoft.Data.Sqlite;
using ContextCompiler.Engine.Index;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>
/// Binds and reads client text so that it round-trips code unit for code unit. SQLitePCLRaw binds a .NET string of more
/// than 512 UTF-8 bytes as a NUL-terminated C string, so everything after an embedded NUL was silently dropped; and
/// UTF-8 cannot hold a lone surrogate at all. Text is therefore bound as <see cref="Wtf8"/> bytes (UTF-8 that also encodes lone
/// surrogates as their three-byte form, the codec every store shares) with an explicit length, and the SQL turns it into TEXT with
/// <c>CAST($p AS TEXT)</c>, so the column keeps its TEXT type, equality against older rows still holds, and valid
/// Unicode is stored as ordinary UTF-8.
/// </summary>
public static class ExactText
{
    /// <summary>The value to bind for <paramref name="text"/>: its WTF-8 bytes, or <see cref="DBNull"/> for null. Use with <c>CAST($p AS TEXT)</c>.</summary>
    public static object Bind(string? text) => text is null ? DBNull.Value : Wtf8.Encode(text);

    /// <summary>The text at <paramref name="ordinal"/> exactly as it was bound through <see cref="Bind"/>; null for SQL NULL.</summary>
    public static string? Read(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Wtf8.Decode(reader.GetFieldValue<byte[]>(ordinal));
}
