using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using ContextCompiler.Core.Tokenization;

namespace ContextCompiler.Core.Tests.Tokenization;

public sealed class TiktokenTokenizerTests
{
    public static TheoryData<string> Encodings => new() { TiktokenTokenizer.O200kBase, TiktokenTokenizer.Cl100kBase };

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Counts_match_js_tiktoken_for_every_fixture_case(string encoding)
    {
        var tokenizer = TestAssets.Tokenizer(encoding);
        Assert.True(TiktokenReference.Cases.Count > 250);
        var failures = TiktokenReference.Cases
            .Select(c => (c, actual: tokenizer.CountTokens(c.Text)))
            .Where(x => x.actual != x.c.Counts[encoding])
            .Select(x => $"{x.c.Name}: expected {x.c.Counts[encoding]}, got {x.actual}")
            .ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} mismatches:\n" + string.Join("\n", failures.Take(20)));
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Token_ids_match_js_tiktoken_where_the_fixture_has_them(string encoding)
    {
        var tokenizer = TestAssets.Tokenizer(encoding);
        var withIds = TiktokenReference.Cases.Where(c => c.Ids.ContainsKey(encoding)).ToList();
        Assert.True(withIds.Count > 200);
        var failures = withIds
            .Where(c => !tokenizer.Encode(c.Text).SequenceEqual(c.Ids[encoding]))
            .Select(c => $"{c.Name}: expected [{string.Join(",", c.Ids[encoding])}], got [{string.Join(",", tokenizer.Encode(c.Text))}]")
            .ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} mismatches:\n" + string.Join("\n", failures.Take(10)));
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Encode_yields_as_many_ids_as_CountTokens_counts(string encoding)
    {
        var tokenizer = TestAssets.Tokenizer(encoding);
        foreach (var c in TiktokenReference.Cases)
        {
            Assert.Equal(tokenizer.CountTokens(c.Text), tokenizer.Encode(c.Text).Count);
        }
    }

    [Fact]
    public void Character_classes_match_the_reference_engine_for_every_code_point()
    {
        var runs = TiktokenReference.CodePointClasses.Split(' ')
            .Select(r => r.Split(':'))
            .Select(p => (Start: Convert.ToInt32(p[0], 16), Bits: int.Parse(p[1])))
            .ToList();
        var mismatches = new List<string>();
        for (int r = 0; r < runs.Count; r++)
        {
            int end = r + 1 < runs.Count ? runs[r + 1].Start : 0x110000;
            for (int cp = runs[r].Start; cp < end; cp++)
            {
                byte expected = FromReferenceBits(runs[r].Bits, cp);
                byte actual = CharClass.Of(cp);
                if (expected != actual && mismatches.Count < 20) mismatches.Add($"U+{cp:X4}: expected {expected}, got {actual}");
            }
        }
        Assert.True(mismatches.Count == 0,
            $"Classes differ from the Unicode {TiktokenReference.UnicodeVersion} engine that made the fixture " +
            "(update UnicodeUpdates.cs):\n" + string.Join("\n", mismatches));
    }

    [Fact]
    public void Special_token_strings_are_ordinary_text()
    {
        var tokenizer = TestAssets.Tokenizer();
        var ids = tokenizer.Encode("<|endoftext|>");
        Assert.True(ids.Count > 1);
        Assert.DoesNotContain(199_999, ids);
    }

    [Fact]
    public void Empty_text_has_no_tokens()
    {
        Assert.Equal(0, TestAssets.Tokenizer().CountTokens(""));
        Assert.Empty(TestAssets.Tokenizer(TiktokenTokenizer.Cl100kBase).Encode(ReadOnlySpan<char>.Empty));
    }

    [Fact]
    public void Parallel_counting_equals_serial_counting()
    {
        var tokenizers = new[] { TestAssets.Tokenizer(TiktokenTokenizer.O200kBase), TestAssets.Tokenizer(TiktokenTokenizer.Cl100kBase) };
        var work = Enumerable.Range(0, 8)
            .SelectMany(_ => TiktokenReference.Cases)
            .SelectMany(c => tokenizers.Select(t => (Tokenizer: t, Case: c)))
            .ToList();
        var serial = work.Select(w => w.Tokenizer.CountTokens(w.Case.Text)).ToArray();
        var parallel = new int[work.Count];
        var idsDiffer = new ConcurrentBag<string>();
        Parallel.For(0, work.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(4, Environment.ProcessorCount) }, i =>
        {
            var (tokenizer, c) = work[i];
            parallel[i] = tokenizer.CountTokens(c.Text);
            if (c.Ids.TryGetValue(tokenizer.Name, out var expected) && !tokenizer.Encode(c.Text).SequenceEqual(expected)) idsDiffer.Add(c.Name);
        });
        Assert.Equal(serial, parallel);
        Assert.Empty(idsDiffer);
    }

    [Theory]
    [InlineData("p50k_base")]
    [InlineData("O200K_BASE")]
    [InlineData("")]
    public void Unknown_encoding_is_rejected_with_a_clear_message(string name)
    {
        using var stream = File.OpenRead(TestAssets.PathOf("o200k_base.tiktoken.bin"));
        var error = Assert.Throws<ArgumentException>(() => TiktokenTokenizer.Load(stream, name));
        Assert.Equal("encodingName", error.ParamName);
        Assert.Contains($"'{name}'", error.Message);
        Assert.Contains("o200k_base, cl100k_base", error.Message);
        Assert.Throws<ArgumentException>(() => TiktokenTokenizer.AssetFileName(name));
    }

    [Fact]
    public void Ranks_of_another_encoding_are_rejected()
    {
        using var stream = File.OpenRead(TestAssets.PathOf("cl100k_base.tiktoken.bin"));
        var error = Assert.Throws<InvalidDataException>(() => TiktokenTokenizer.Load(stream, TiktokenTokenizer.O200kBase));
        Assert.Contains("another encoding", error.Message);
    }

    [Fact]
    public void A_stream_that_is_not_a_ranks_file_is_rejected()
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes("! 0 IQ== Ig== Iw=="));
        Assert.Throws<InvalidDataException>(() => TiktokenTokenizer.Load(stream));
    }

    [Fact]
    public void A_truncated_ranks_file_is_rejected()
    {
        var bytes = File.ReadAllBytes(TestAssets.PathOf("cl100k_base.tiktoken.bin"));
        using var stream = new MemoryStream(bytes, 0, bytes.Length - 10);
        Assert.Throws<InvalidDataException>(() => TiktokenTokenizer.Load(stream, TiktokenTokenizer.Cl100kBase));
    }

    [Fact]
    public void Names_and_asset_files_follow_the_encoding()
    {
        Assert.Equal("o200k_base", TestAssets.Tokenizer().Name);
        Assert.Equal("cl100k_base", TestAssets.Tokenizer(TiktokenTokenizer.Cl100kBase).Name);
        Assert.Equal("cl100k_base.tiktoken.bin", TiktokenTokenizer.AssetFileName("cl100k_base"));
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void A_megabyte_without_spaces_is_counted_in_linear_time(string encoding)
    {
        var random = new Random(7);
        var text = new string(Enumerable.Range(0, 1_000_000).Select(_ => (char)('a' + random.Next(26))).ToArray());
        var tokenizer = TestAssets.Tokenizer(encoding);
        var watch = Stopwatch.StartNew();
        int count = tokenizer.CountTokens(text);
        watch.Stop();
        Assert.InRange(count, 150_000, 600_000);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
        // A piece boundary is a hard boundary for BPE, so splitting at one must not change the count.
        Assert.Equal(count + tokenizer.CountTokens(" z"), tokenizer.CountTokens(text + " z"));
    }

    private static byte FromReferenceBits(int bits, int codePoint)
    {
        byte cls = 0;
        if ((bits & (1 | 2)) != 0) cls |= CharClass.Upper;
        if ((bits & 4) != 0) cls |= CharClass.Lower;
        if ((bits & (8 | 16)) != 0) cls |= CharClass.Caseless;
        if ((bits & 32) != 0) cls |= CharClass.Mark;
        if ((bits & 64) != 0) cls |= CharClass.Number;
        if ((bits & 128) != 0) cls |= CharClass.Space;
        if (codePoint is '\r' or '\n') cls |= CharClass.NewLine;
        return cls;
    }
}
