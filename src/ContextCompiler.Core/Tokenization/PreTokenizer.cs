using System.Diagnostics;
using System.Runtime.CompilerServices;
using static ContextCompiler.Core.Tokenization.CharClass;

namespace ContextCompiler.Core.Tokenization;

/// <summary>
/// Hand-written equivalents of the tiktoken split patterns, as a JavaScript <c>/u</c> regex runs them
/// (code point by code point, leftmost alternative first, greedy with backtracking).
/// .NET's Regex would walk UTF-16 code units, which splits astral letters, digits and emoji differently,
/// and it is several times slower than a direct scan.
/// </summary>
/// <remarks>
/// Every code point is matched by some alternative of both patterns, so the pieces tile the text:
/// each method only has to say where the piece that starts at <c>start</c> ends.
/// </remarks>
internal static class PreTokenizer
{
    /// <summary>
    /// End of the o200k_base piece at <paramref name="start"/>. The pattern is
    /// <c>P?U*L+C?|P?U+L*C?|\p{N}{1,3}| ?S+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+</c> with
    /// P=[^\r\n\p{L}\p{N}], U=[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}], L=[\p{Ll}\p{Lm}\p{Lo}\p{M}],
    /// S=[^\s\p{L}\p{N}] and C the contraction suffixes.
    /// </summary>
    public static int O200kEnd(ReadOnlySpan<char> text, int start)
    {
        byte first = At(text, start, out int width);
        if ((first & NotPrefix) == 0)
        {
            // The optional prefix is tried taken, then (only matters for a mark, which is also in U and L) not taken.
            int end = UpperThenLowerEnd(text, start + width);
            if (end < 0 && (first & Mark) != 0) end = UpperThenLowerEnd(text, start);
            if (end < 0) end = UpperRunEnd(text, start + width);
            if (end >= 0) return ContractionEnd(text, end);
        }
        else if ((first & Letter) != 0)
        {
            int end = UpperThenLowerEnd(text, start);
            if (end < 0) end = UpperRunEnd(text, start);
            Debug.Assert(end > start);
            return ContractionEnd(text, end);
        }

        if ((first & Number) != 0) return NumberEnd(text, start);
        int symbolsEnd = SymbolsEnd(text, start, first);
        if (symbolsEnd >= 0)
        {
            while (symbolsEnd < text.Length && text[symbolsEnd] is '\r' or '\n' or '/') symbolsEnd++;
            return symbolsEnd;
        }
        return WhitespaceEnd(text, start);
    }

    /// <summary>
    /// End of the cl100k_base piece at <paramref name="start"/>. The pattern is
    /// <c>C|P?\p{L}+|\p{N}{1,3}| ?S+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c> (letters and marks are separate here).
    /// </summary>
    public static int Cl100kEnd(ReadOnlySpan<char> text, int start)
    {
        if (text[start] == '\'')
        {
            int contraction = ContractionEnd(text, start);
            if (contraction > start) return contraction;
        }

        byte first = At(text, start, out int width);
        if ((first & NotPrefix) == 0)
        {
            int next = start + width;
            if (next < text.Length && (At(text, next, out _) & Letter) != 0) return RunEnd(text, next, Letter);
        }
        else if ((first & Letter) != 0)
        {
            return RunEnd(text, start, Letter);
        }

        if ((first & Number) != 0) return NumberEnd(text, start);
        int symbolsEnd = SymbolsEnd(text, start, first);
        if (symbolsEnd >= 0)
        {
            while (symbolsEnd < text.Length && text[symbolsEnd] is '\r' or '\n') symbolsEnd++;
            return symbolsEnd;
        }
        return WhitespaceEnd(text, start);
    }

    /// <summary>
    /// <c>U*L+</c> at <paramref name="start"/>, or -1. U* first takes the whole U run; if no L follows,
    /// the regex gives U characters back one at a time until one of them is also in L (Lm, Lo or a mark),
    /// and L+ then ends right after it because everything after it in the run is upper-case only.
    /// </summary>
    private static int UpperThenLowerEnd(ReadOnlySpan<char> text, int start)
    {
        int i = start, lastShared = -1, lastSharedWidth = 0;
        byte cls = 0;
        while (i < text.Length)
        {
            cls = At(text, i, out int width);
            if ((cls & UpperClass) == 0) break;
            if ((cls & (Caseless | Mark)) != 0)
            {
                lastShared = i;
                lastSharedWidth = width;
            }
            i += width;
        }
        if (i < text.Length && (cls & Lower) != 0) return RunEnd(text, i, LowerClass);
        return lastShared >= 0 ? lastShared + lastSharedWidth : -1;
    }

    /// <summary><c>U+L*</c> at <paramref name="start"/>, or -1.</summary>
    private static int UpperRunEnd(ReadOnlySpan<char> text, int start)
    {
        if (start >= text.Length || (At(text, start, out _) & UpperClass) == 0) return -1;
        return RunEnd(text, RunEnd(text, start, UpperClass), LowerClass);
    }

    /// <summary><c> ?[^\s\p{L}\p{N}]+</c> at <paramref name="start"/>, or -1.</summary>
    private static int SymbolsEnd(ReadOnlySpan<char> text, int start, byte first)
    {
        if (text[start] == ' ' && start + 1 < text.Length && (At(text, start + 1, out _) & NotSymbol) == 0)
        {
            return RunEndOutside(text, start + 1, NotSymbol);
        }
        return (first & NotSymbol) == 0 ? RunEndOutside(text, start, NotSymbol) : -1;
    }

    /// <summary><c>\p{N}{1,3}</c>.</summary>
    private static int NumberEnd(ReadOnlySpan<char> text, int start)
    {
        int i = start;
        for (int n = 0; n < 3 && i < text.Length; n++)
        {
            if ((At(text, i, out int width) & Number) == 0) break;
            i += width;
        }
        return i;
    }

    /// <summary>
    /// <c>\s*[\r\n]+|\s+(?!\S)|\s+</c> at <paramref name="start"/>, which is whitespace.
    /// The first alternative backtracks to the last line break of the run; the second gives back the
    /// run's last character when a non-space follows, so that character can prefix the next word.
    /// </summary>
    private static int WhitespaceEnd(ReadOnlySpan<char> text, int start)
    {
        Debug.Assert((At(text, start, out _) & Space) != 0);
        int i = start, lastNewLine = -1;
        while (i < text.Length)
        {
            // Every JavaScript \s character is in the BMP, so one UTF-16 unit is one code point here.
            byte cls = At(text, i, out _);
            if ((cls & Space) == 0) break;
            if ((cls & NewLine) != 0) lastNewLine = i;
            i++;
        }
        if (lastNewLine >= 0) return lastNewLine + 1;
        if (i == text.Length || i - start == 1) return i;
        return i - 1;
    }

    /// <summary>The optional contraction suffix <c>'s|'t|'re|'ve|'m|'ll|'d</c>, ASCII case-insensitive.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ContractionEnd(ReadOnlySpan<char> text, int end)
    {
        if (end + 1 >= text.Length || text[end] != '\'') return end;
        // c | 0x20 folds exactly the ASCII upper-case letters onto lower case, and nothing else onto them.
        int c1 = text[end + 1] | 0x20;
        if (c1 is 's' or 't' or 'm' or 'd') return end + 2;
        if (end + 2 < text.Length)
        {
            int c2 = text[end + 2] | 0x20;
            if ((c1 is 'r' or 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return end + 3;
        }
        return end;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RunEnd(ReadOnlySpan<char> text, int i, byte anyOf)
    {
        while (i < text.Length)
        {
            if ((At(text, i, out int width) & anyOf) == 0) break;
            i += width;
        }
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RunEndOutside(ReadOnlySpan<char> text, int i, byte noneOf)
    {
        while (i < text.Length)
        {
            if ((At(text, i, out int width) & noneOf) != 0) break;
            i += width;
        }
        return i;
    }
}
