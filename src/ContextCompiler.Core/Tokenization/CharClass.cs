using System.Globalization;
using System.Runtime.CompilerServices;

namespace ContextCompiler.Core.Tokenization;

/// <summary>
/// The character classes the tiktoken split patterns distinguish, as bit flags per code point.
/// The patterns only ever ask "is it in this set", so every set they use is a union of these bits.
/// </summary>
internal static class CharClass
{
    /// <summary>\p{Lu} or \p{Lt}: only in o200k's upper-case class.</summary>
    public const byte Upper = 1;
    /// <summary>\p{Ll}: only in o200k's lower-case class.</summary>
    public const byte Lower = 2;
    /// <summary>\p{Lm} or \p{Lo}: letters in both o200k case classes.</summary>
    public const byte Caseless = 4;
    /// <summary>\p{M}: in both o200k case classes but not a letter, so also allowed as the one-char prefix.</summary>
    public const byte Mark = 8;
    /// <summary>\p{N}.</summary>
    public const byte Number = 16;
    /// <summary>JavaScript's \s, which is not .NET's char.IsWhiteSpace (U+0085 is not in it, U+FEFF is).</summary>
    public const byte Space = 32;
    /// <summary>\r or \n (always together with <see cref="Space"/>).</summary>
    public const byte NewLine = 64;

    public const byte Letter = Upper | Lower | Caseless;
    /// <summary>o200k's [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}].</summary>
    public const byte UpperClass = Upper | Caseless | Mark;
    /// <summary>o200k's [\p{Ll}\p{Lm}\p{Lo}\p{M}].</summary>
    public const byte LowerClass = Lower | Caseless | Mark;
    /// <summary>A code point is in [^\r\n\p{L}\p{N}] when it has none of these bits.</summary>
    public const byte NotPrefix = NewLine | Letter | Number;
    /// <summary>A code point is in [^\s\p{L}\p{N}] when it has none of these bits.</summary>
    public const byte NotSymbol = Space | Letter | Number;

    // One byte per BMP code point: 64 KiB, built once, so the hot path never calls into globalization code.
    private static readonly byte[] Bmp = BuildBmp();

    /// <summary>Class of the code point starting at <paramref name="i"/>; <paramref name="width"/> is 2 for a surrogate pair.</summary>
    /// <remarks>A lone surrogate is a code point of its own (category Cs), as in a JavaScript /u regex.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte At(ReadOnlySpan<char> text, int i, out int width)
    {
        char c = text[i];
        if (!char.IsHighSurrogate(c) || (uint)(i + 1) >= (uint)text.Length || !char.IsLowSurrogate(text[i + 1]))
        {
            width = 1;
            return Bmp[c];
        }
        width = 2;
        return Astral(char.ConvertToUtf32(c, text[i + 1]));
    }

    /// <summary>Class of any code point, including lone surrogates.</summary>
    public static byte Of(int codePoint) => codePoint < 0x10000 ? Bmp[codePoint] : Astral(codePoint);

    private static byte Astral(int codePoint) =>
        UnicodeUpdates.TryGet(codePoint, out var updated) ? updated : FromCategory(CharUnicodeInfo.GetUnicodeCategory(codePoint));

    private static byte[] BuildBmp()
    {
        var table = new byte[0x10000];
        for (int c = 0; c < table.Length; c++)
        {
            table[c] = UnicodeUpdates.TryGet(c, out var updated) ? updated : FromCategory(CharUnicodeInfo.GetUnicodeCategory(c));
        }
        foreach (char c in "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff")
        {
            table[c] |= Space;
        }
        table['\r'] |= NewLine;
        table['\n'] |= NewLine;
        return table;
    }

    private static byte FromCategory(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.TitlecaseLetter => Upper,
        UnicodeCategory.LowercaseLetter => Lower,
        UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Caseless,
        UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => Mark,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Number,
        _ => 0,
    };
}
