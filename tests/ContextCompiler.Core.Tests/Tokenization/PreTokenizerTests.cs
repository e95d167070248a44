using System.Text;
using System.Text.RegularExpressions;
using ContextCompiler.Core.Tokenization;

namespace ContextCompiler.Core.Tests.Tokenization;

/// <summary>
/// Differential tests of the hand-written splitter against the fixture's own patterns run by .NET's
/// backtracking Regex. On BMP text without surrogates a UTF-16 unit is a code point, so .NET and
/// JavaScript regexes agree once JavaScript's \s is spelled out; astral text is covered by the fixture.
/// </summary>
public sealed class PreTokenizerTests
{
    private const string JsWhitespace = @"\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff";

    // Weighted towards what the patterns care about: case classes, marks, apostrophes, digits, odd whitespace.
    private static readonly string[] Pool =
    [
        "a", "b", "z", "s", "t", "r", "e", "v", "m", "l", "d", "A", "B", "Z", "S", "T", "R", "E", "V", "M", "L", "D",
        "'", "'", "'", "é", "ß", "ø", "É", "Ω", "Ж", "ǅ", "ǈ", "ᾈ", "ʰ", "ー", "ᵃ", "中", "あ", "ا", "ก", "ª",
        "\u0301", "\u0308", "\u0903", "\u20dd", "\u0e31", "0", "1", "9", "٣", "½", "²", "Ⅻ", "①",
        " ", " ", " ", "\t", "\n", "\r", "\v", "\f", "\u00a0", "\u1680", "\u2003", "\u2028", "\u2029", "\u202f",
        "\u3000", "\ufeff", "\u0085", "\u200b", "\u180e", "\u200d", "\u00ad",
        "!", "?", ".", ",", "/", "/", "\\", "-", "(", "<", "|", "@", "€", "©", "☃", "\u0378", "\ue000", "\uffff",
    ];

    public static TheoryData<string> Encodings => new() { TiktokenTokenizer.O200kBase, TiktokenTokenizer.Cl100kBase };

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Pieces_match_the_reference_pattern_on_random_text(string encoding)
    {
        var regex = ReferenceRegex(encoding);
        var random = new Random(encoding.Length * 7919);
        var text = new StringBuilder();
        for (int iteration = 0; iteration < 30_000; iteration++)
        {
            text.Clear();
            int length = random.Next(0, 24);
            for (int i = 0; i < length; i++) text.Append(Pool[random.Next(Pool.Length)]);
            AssertSamePieces(regex, encoding, text.ToString());
        }
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Pieces_match_the_reference_pattern_on_the_fixture_cases(string encoding)
    {
        var regex = ReferenceRegex(encoding);
        // .NET's Regex knows neither astral code points nor the Unicode 17 additions; the counts test covers those.
        foreach (var c in TiktokenReference.Cases.Where(c => !c.Text.Any(ch => char.IsSurrogate(ch) || UnicodeUpdates.TryGet(ch, out _))))
        {
            AssertSamePieces(regex, encoding, c.Text);
        }
    }

    // Attribute arguments cannot carry lone surrogates (metadata strings are UTF-8), hence TheoryData.
    // Expected splits were taken from js-tiktoken's own regex in Node.
    public static TheoryData<string, string, string[]> AstralCases => new()
    {
        { "o200k_base", "\U0001F600abc", ["\U0001F600abc"] },
        { "o200k_base", "x\ud800y", ["x", "\ud800y"] },
        { "o200k_base", "\udc00\ud800", ["\udc00\ud800"] },
        { "o200k_base", "a\U0001D7CE\U0001D7CF\U0001D7D0\U0001D7D1", ["a", "\U0001D7CE\U0001D7CF\U0001D7D0", "\U0001D7D1"] },
        { "o200k_base", "\U0001D400\U0001D44E", ["\U0001D400\U0001D44E"] },
        { "cl100k_base", "\U00010400\U00010428 x", ["\U00010400\U00010428", " x"] },
        { "cl100k_base", "'s'S's", ["'s", "'S", "'s"] },
    };

    [Theory]
    [MemberData(nameof(AstralCases))]
    public void Astral_and_surrogate_text_splits_by_code_point(string encoding, string text, string[] expected)
    {
        Assert.Equal(expected, Split(encoding, text));
    }

    [Fact]
    public void Heap_and_scan_merges_agree_on_long_pieces()
    {
        var random = new Random(11);
        foreach (var encoding in new[] { TiktokenTokenizer.O200kBase, TiktokenTokenizer.Cl100kBase })
        {
            var ranks = TestAssets.Tokenizer(encoding).Ranks;
            for (int iteration = 0; iteration < 300; iteration++)
            {
                var bytes = RandomPiece(random, random.Next(1, 700));
                var scanIds = new List<int>();
                var heapIds = new List<int>();
                int scan = BytePairMerger.MergeByScan(ranks, bytes, scanIds);
                int heap = BytePairMerger.MergeByHeap(ranks, bytes, heapIds);
                Assert.Equal(scan, heap);
                Assert.Equal(scanIds, heapIds);
                Assert.Equal(scan, scanIds.Count);
            }
        }
    }

    private static byte[] RandomPiece(Random random, int length)
    {
        var text = new StringBuilder();
        int style = random.Next(4);
        while (text.Length < length)
        {
            text.Append(style switch
            {
                0 => (char)('a' + random.Next(26)),
                1 => "the quick brown fox jumps over"[random.Next(30)],
                2 => (char)(0x4e00 + random.Next(0x200)),
                _ => (char)random.Next(0x20, 0x250),
            });
        }
        return style == 3 && random.Next(2) == 0
            ? Enumerable.Range(0, length).Select(_ => (byte)random.Next(256)).ToArray()
            : Encoding.UTF8.GetBytes(text.ToString());
    }

    private static Regex ReferenceRegex(string encoding)
    {
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(TiktokenReference.FilePath));
        string pattern = json.RootElement.GetProperty("patterns").GetProperty(encoding).GetString()!;
        pattern = pattern
            .Replace(@"[^\s", "[^" + JsWhitespace)
            .Replace(@"\s", "[" + JsWhitespace + "]")
            .Replace(@"\S", "[^" + JsWhitespace + "]");
        return new Regex(pattern, RegexOptions.CultureInvariant);
    }

    private static void AssertSamePieces(Regex regex, string encoding, string text)
    {
        var expected = new List<string>();
        for (var m = regex.Match(text); m.Success; m = m.NextMatch()) expected.Add(m.Value);
        var actual = Split(encoding, text);
        if (!expected.SequenceEqual(actual))
        {
            Assert.Fail($"{encoding} split of {Escape(text)}:\n expected {string.Join(" | ", expected.Select(Escape))}\n actual   {string.Join(" | ", actual.Select(Escape))}");
        }
    }

    private static List<string> Split(string encoding, string text)
    {
        var pieces = new List<string>();
        for (int start = 0; start < text.Length;)
        {
            int end = encoding == TiktokenTokenizer.O200kBase ? PreTokenizer.O200kEnd(text, start) : PreTokenizer.Cl100kEnd(text, start);
            Assert.True(end > start);
            pieces.Add(text[start..end]);
            start = end;
        }
        return pieces;
    }

    private static string Escape(string s) =>
        string.Concat(s.Select(c => c is >= ' ' and < '\u007f' ? c.ToString() : $"\\u{(int)c:x4}"));
}
