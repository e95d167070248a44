using ContextCompiler.Core.Text;
using Npgsql;

namespace ContextCompiler.Storage.Postgres;

/// <summary>
/// Client text in the PostgreSQL store: kept exactly as <see cref="Wtf8"/> in <c>bytea</c>, because <c>text</c> rejects
/// NUL and cannot encode a lone surrogate, and searched through a <c>text</c> copy made by <see cref="SearchableText.Of"/>.
/// </summary>
public static class PostgresText
{
    /// <summary>The <c>bytea</c> value to bind for <paramref name="text"/>: its WTF-8 bytes, or <see cref="DBNull"/> for null.</summary>
    public static object Bind(string? text) => text is null ? DBNull.Value : Wtf8.Encode(text);

    /// <summary>The text at <paramref name="ordinal"/> exactly as it was bound through <see cref="Bind"/>; null for SQL NULL.</summary>
    public static string? Read(NpgsqlDataReader reader, int ordinal)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return reader.IsDBNull(ordinal) ? null : Wtf8.Decode(reader.GetFieldValue<byte[]>(ordinal));
    }
}
