namespace ContextCompiler.Core.Tokenization;

/// <summary>
/// Code points whose class under Unicode 17.0 (what current JavaScript engines, and so js-tiktoken, use)
/// differs from .NET 10's Unicode 16.0 tables: new letters, marks and digits, and U+0295 (Ll became Lo).
/// Without these, text in the newly encoded scripts would split differently from the reference.
/// The tests compare every code point against the classes recorded with the reference fixture, so a
/// runtime that catches up (or a reference that moves on) shows up as a failing test, not a silent drift.
/// </summary>
internal static class UnicodeUpdates
{
    private static readonly (int First, int Last, byte Class)[] Ranges =
    [
        (0x0295, 0x0295, CharClass.Caseless),
        (0x088F, 0x088F, CharClass.Caseless),
        (0x0C5C, 0x0C5C, CharClass.Caseless),
        (0x0CDC, 0x0CDC, CharClass.Caseless),
        (0x1ACF, 0x1ADD, CharClass.Mark),
        (0x1AE0, 0x1AEB, CharClass.Mark),
        (0xA7CE, 0xA7CE, CharClass.Upper),
        (0xA7CF, 0xA7CF, CharClass.Lower),
        (0xA7D2, 0xA7D2, CharClass.Upper),
        (0xA7D4, 0xA7D4, CharClass.Upper),
        (0xA7F1, 0xA7F1, CharClass.Caseless),
        (0x10940, 0x10959, CharClass.Caseless),
        (0x10EC5, 0x10EC7, CharClass.Caseless),
        (0x10EFA, 0x10EFB, CharClass.Mark),
        (0x11B60, 0x11B67, CharClass.Mark),
        (0x11DB0, 0x11DDB, CharClass.Caseless),
        (0x11DE0, 0x11DE9, CharClass.Number),
        (0x16EA0, 0x16EB8, CharClass.Upper),
        (0x16EBB, 0x16ED3, CharClass.Lower),
        (0x16FF2, 0x16FF3, CharClass.Caseless),
        (0x16FF4, 0x16FF6, CharClass.Number),
        (0x187F8, 0x187FF, CharClass.Caseless),
        (0x18D09, 0x18D1E, CharClass.Caseless),
        (0x18D80, 0x18DF2, CharClass.Caseless),
        (0x1E6C0, 0x1E6DE, CharClass.Caseless),
        (0x1E6E0, 0x1E6E2, CharClass.Caseless),
        (0x1E6E3, 0x1E6E3, CharClass.Mark),
        (0x1E6E4, 0x1E6E5, CharClass.Caseless),
        (0x1E6E6, 0x1E6E6, CharClass.Mark),
        (0x1E6E7, 0x1E6ED, CharClass.Caseless),
        (0x1E6EE, 0x1E6EF, CharClass.Mark),
        (0x1E6F0, 0x1E6F4, CharClass.Caseless),
        (0x1E6F5, 0x1E6F5, CharClass.Mark),
        (0x1E6FE, 0x1E6FF, CharClass.Caseless),
        (0x2B73A, 0x2B73F, CharClass.Caseless),
        (0x2CEA2, 0x2CEAD, CharClass.Caseless),
        (0x323B0, 0x33479, CharClass.Caseless),
    ];

    /// <summary>The Unicode 17.0 class of <paramref name="codePoint"/> where it differs from .NET's tables.</summary>
    public static bool TryGet(int codePoint, out byte charClass)
    {
        int lo = 0, hi = Ranges.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var (first, last, cls) = Ranges[mid];
            if (codePoint < first) hi = mid - 1;
            else if (codePoint > last) lo = mid + 1;
            else
            {
                charClass = cls;
                return true;
            }
        }
        charClass = 0;
        return false;
    }
}
