using System.Text;

namespace ContextCompiler.Core.Text;

/// <summary>
/// WTF-8: UTF-8 that also encodes a lone surrogate as the three bytes of its code point. It is the one codec by which
/// every store keeps client text code unit for code unit: UTF-8 alone cannot hold a lone surrogate, and databases' text
/// types reject or truncate at NUL. Valid Unicode encodes to exactly its UTF-8 bytes, so stored text stays readable.
/// </summary>
public static class Wtf8
{
    /// <summary>The WTF-8 bytes of <paramref name="text"/>: its UTF-8, except that a surrogate without its partner takes its three-byte form.</summary>
    public static byte[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
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

    /// <summary>The inverse of <see cref="Encode"/>. Bytes that are not WTF-8 (never written by <see cref="Encode"/>) become U+FFFD.</summary>
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

    /// <summary>Whether <paramref name="text"/> holds a surrogate without its partner, i.e. is not valid Unicode.</summary>
    public static bool HasLoneSurrogate(ReadOnlySpan<char> text)
    {
        int i = text.IndexOfAnyInRange('\uD800', '\uDFFF');
        while (i >= 0 && i < text.Length)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i += 2;
            }
            else
            {
                return true;
            }

            int rest = text[i..].IndexOfAnyInRange('\uD800', '\uDFFF');
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
