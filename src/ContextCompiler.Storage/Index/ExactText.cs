using System.Text;
using Microsoft.Data.Sqlite;

namespace ContextCompiler.Storage.Index;

/// <summary>
/// Binds and reads client text so that it round-trips code unit for code unit. SQLitePCLRaw binds a .NET string of more
/// than 512 UTF-8 bytes as a NUL-terminated C string, so everything after an embedded NUL was silently dropped; and
/// UTF-8 cannot hold a lone surrogate at all. Text is therefore bound as WTF-8 bytes (UTF-8 that also encodes lone
/// surrogates as their three-byte form) with an explicit length, and the SQL turns it into TEXT with
/// <c>CAST($p AS TEXT)</c>, so the column keeps its TEXT type, equality against older rows still holds, and valid
/// Unicode is stored as ordinary UTF-8.
/// </summary>
public static class ExactText
{
    /// <summary>The value to bind for <paramref name="text"/>: its WTF-8 bytes, or <see cref="DBNull"/> for null. Use with <c>CAST($p AS TEXT)</c>.</summary>
    public static object Bind(string? text) => text is null ? DBNull.Value : Encode(text);

    /// <summary>The text at <paramref name="ordinal"/> exactly as it was bound through <see cref="Bind"/>; null for SQL NULL.</summary>
    public static string? Read(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Decode(reader.GetFieldValue<byte[]>(ordinal));

    /// <summary>WTF-8: UTF-8, except that a surrogate without its partner is written as the three bytes of its code point.</summary>
    public static byte[] Encode(string text)
    {
        if (!HasLoneSurrogate(text))
        {
            return Encoding.UTF8.GetBytes(text);
        }

        var bytes = new List<byte>(text.Length + 16);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                int scalar = char.ConvertToUtf32(c, text[i + 1]);
                bytes.Add((byte)(0xF0 | (scalar >> 18)));
                bytes.Add((byte)(0x80 | ((scalar >> 12) & 0x3F)));
                bytes.Add((byte)(0x80 | ((scalar >> 6) & 0x3F)));
                bytes.Add((byte)(0x80 | (scalar & 0x3F)));
                i++;
            }
            else if (c < 0x80)
            {
                bytes.Add((byte)c);
            }
            else if (c < 0x800)
            {
                bytes.Add((byte)(0xC0 | (c >> 6)));
                bytes.Add((byte)(0x80 | (c & 0x3F)));
            }
            else
            {
                // Every other BMP code unit, lone surrogates included, takes three bytes.
                bytes.Add((byte)(0xE0 | (c >> 12)));
                bytes.Add((byte)(0x80 | ((c >> 6) & 0x3F)));
                bytes.Add((byte)(0x80 | (c & 0x3F)));
            }
        }

        return [.. bytes];
    }

    /// <summary>The inverse of <see cref="Encode"/>. Bytes that are not WTF-8 (never written by this class) become U+FFFD.</summary>
    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        if (!HasEncodedSurrogate(bytes))
        {
            return Encoding.UTF8.GetString(bytes);
        }

        var text = new StringBuilder(bytes.Length);
        int i = 0;
        while (i < bytes.Length)
        {
            // Encoded surrogates are ED A0..BF xx; everything between them is ordinary UTF-8, decoded in one piece.
            int next = i;
            while (next < bytes.Length && !IsEncodedSurrogate(bytes, next))
            {
                next++;
            }

            text.Append(Encoding.UTF8.GetString(bytes[i..next]));
            if (next < bytes.Length)
            {
                text.Append((char)(0xD000 | ((bytes[next + 1] & 0x3F) << 6) | (bytes[next + 2] & 0x3F)));
                next += 3;
            }

            i = next;
        }

        return text.ToString();
    }

    private static bool HasLoneSurrogate(string text)
    {
        var span = text.AsSpan();
        int i = span.IndexOfAnyInRange('\uD800', '\uDFFF');
        while (i >= 0 && i < span.Length)
        {
            if (char.IsHighSurrogate(span[i]) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
            {
                i += 2;
            }
            else
            {
                return true;
            }

            int rest = span[i..].IndexOfAnyInRange('\uD800', '\uDFFF');
            i = rest < 0 ? -1 : i + rest;
        }

        return false;
    }

    private static bool HasEncodedSurrogate(ReadOnlySpan<byte> bytes)
    {
        for (int i = bytes.IndexOf((byte)0xED); i >= 0 && i < bytes.Length; i++)
        {
            if (IsEncodedSurrogate(bytes, i))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsEncodedSurrogate(ReadOnlySpan<byte> bytes, int i) =>
        i + 2 < bytes.Length && bytes[i] == 0xED && bytes[i + 1] is >= 0xA0 and <= 0xBF && bytes[i + 2] is >= 0x80 and <= 0xBF;
}
