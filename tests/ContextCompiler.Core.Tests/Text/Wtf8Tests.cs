using System.Text;
using ContextCompiler.Core.Text;
using FsCheck;
using FsCheck.Fluent;

namespace ContextCompiler.Core.Tests.Text;

/// <summary>The shared codec of exact text: any UTF-16 string round-trips, and valid Unicode is plain UTF-8.</summary>
public sealed class Wtf8Tests
{
    // Any UTF-16 code units, weighted towards the ones text types cannot hold: NUL, lone surrogates, astral pairs.
    private static Gen<string> Texts =>
        Gen.Frequency(
                (4, Gen.Choose(0x20, 0x7E).Select(c => ((char)c).ToString())),
                (1, Gen.Constant("\0")),
                (2, Gen.Choose(0xD800, 0xDFFF).Select(c => ((char)c).ToString())),
                (1, Gen.Constant("😀")),
                (1, Gen.Choose(0x80, 0xFFFF).Select(c => ((char)c).ToString())))
            .ListOf()
            .Select(parts => string.Concat(parts));

    [Fact]
    public void Any_string_round_trips_code_unit_for_code_unit()
    {
        Prop.ForAll(Texts.ToArbitrary(), text => string.Equals(text, Wtf8.Decode(Wtf8.Encode(text)), StringComparison.Ordinal))
            .QuickCheckThrowOnFailure();
    }

    // Cases in the test body, not [InlineData]: xunit serialises theory data through UTF-8 at discovery, which turns a
    // lone surrogate into U+FFFD before the test sees it, so such a theory would test nothing.
    [Fact]
    public void Lone_surrogates_round_trip()
    {
        foreach (string text in (string[])["\uD83D", "\uDE00", "a\uDE00\uD83Db", "\uD800\uD800", "end\uDBFF", "\uDBFF\uDFFF\uDC00"])
        {
            Assert.True(Wtf8.HasLoneSurrogate(text), $"{Escape(text)} must hold a lone surrogate");
            Assert.True(string.Equals(text, Wtf8.Decode(Wtf8.Encode(text)), StringComparison.Ordinal), $"{Escape(text)} changed");
        }
    }

    private static string Escape(string text) => string.Concat(text.Select(c => $"\\u{(int)c:X4}"));

    [Fact]
    public void A_lone_surrogate_takes_its_three_byte_form_and_a_pair_stays_four_bytes()
    {
        Assert.Equal(new byte[] { 0x61, 0xED, 0xA0, 0xBD, 0x62 }, Wtf8.Encode("a\uD83Db"));
        Assert.Equal(new byte[] { 0xED, 0xB8, 0x80 }, Wtf8.Encode("\uDE00"));
        Assert.Equal(new byte[] { 0xF0, 0x9F, 0x98, 0x80 }, Wtf8.Encode("\uD83D\uDE00"));
    }

    [Fact]
    public void Valid_unicode_gives_exactly_its_utf8()
    {
        // Valid strings only: pairs are whole, so strict UTF-8 encoding of them succeeds and is the reference.
        var valid = Texts.Select(SearchableText.Of).ToArbitrary();
        Prop.ForAll(valid, text =>
                Wtf8.Encode(text).AsSpan().SequenceEqual(new UTF8Encoding(false, throwOnInvalidBytes: true).GetBytes(text))
                && Wtf8.Decode(Encoding.UTF8.GetBytes(text)) == text)
            .QuickCheckThrowOnFailure();
        Assert.Equal(Encoding.UTF8.GetBytes("naïve 😀 \0 end"), Wtf8.Encode("naïve 😀 \0 end"));
    }
}

/// <summary>The searchable copy of client text is valid text without NUL and otherwise the text itself.</summary>
public sealed class SearchableTextTests
{
    // In the body rather than [InlineData], which would turn the lone surrogates into U+FFFD at discovery (see Wtf8Tests).
    [Fact]
    public void Removes_nul_and_replaces_lone_surrogates()
    {
        (string Text, string Expected)[] cases =
        [
            ("plain text", "plain text"),
            ("a\0b\0", "ab"),
            ("x\uD83Dy", "x\uFFFDy"),
            ("\uDE00\uD83D", "\uFFFD\uFFFD"),
            ("emoji 😀 stays", "emoji 😀 stays"),
            ("\0\uDC00😀", "\uFFFD😀"),
        ];
        foreach (var (text, expected) in cases)
        {
            Assert.True(string.Equals(expected, SearchableText.Of(text), StringComparison.Ordinal), $"case {cases.ToList().IndexOf((text, expected))}");
        }
    }

    [Fact]
    public void Clean_text_is_returned_as_the_same_instance()
    {
        const string text = "nothing to change ü 😀";
        Assert.Same(text, SearchableText.Of(text));
    }

    [Fact]
    public void The_copy_always_encodes_as_strict_utf8()
    {
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        string copy = SearchableText.Of("a\uD800\0b\uDFFF\uD83D\uDE00");
        Assert.DoesNotContain('\0', copy);
        Assert.Equal(copy, strict.GetString(strict.GetBytes(copy)));
    }
}
