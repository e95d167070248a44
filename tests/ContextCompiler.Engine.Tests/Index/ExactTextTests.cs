using System.Text;
using ContextCompiler.Core.Text;
using ContextCompiler.Engine.Index;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Data.Sqlite;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Engine.Tests.Index;

/// <summary>Client text bound through <see cref="ExactText"/> comes back from SQLite code unit for code unit.</summary>
public sealed class ExactTextTests : IDisposable
{
    private readonly SqliteConnection _connection = new("Data Source=:memory:");

    public ExactTextTests()
    {
        _connection.Open();
        using var create = _connection.CreateCommand();
        create.CommandText = "CREATE TABLE t (x TEXT)";
        create.ExecuteNonQuery();
    }

    public void Dispose() => _connection.Dispose();

    // Any UTF-16 code units, weighted towards the ones that broke storage: NUL, lone surrogates, astral pairs.
    private static Gen<string> Texts =>
        Gen.Frequency(
                (4, Gen.Choose(0x20, 0x7E).Select(c => ((char)c).ToString())),
                (1, Gen.Constant("\0")),
                (1, Gen.Choose(0xD800, 0xDFFF).Select(c => ((char)c).ToString())),
                (1, Gen.Constant("😀")),
                (1, Gen.Choose(0x80, 0xFFFF).Select(c => ((char)c).ToString())),
                (1, Gen.Choose(500, 2000).Select(n => new string('a', n))))
            .ListOf()
            .Select(parts => string.Concat(parts));

    private string RoundTrip(string text)
    {
        using var write = _connection.CreateCommand();
        write.CommandText = "DELETE FROM t; INSERT INTO t VALUES (CAST($x AS TEXT))";
        write.Parameters.AddWithValue("$x", ExactText.Bind(text));
        write.ExecuteNonQuery();
        using var read = _connection.CreateCommand();
        read.CommandText = "SELECT x, typeof(x) FROM t";
        using var reader = read.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal("text", reader.GetString(1));
        return ExactText.Read(reader, 0)!;
    }

    [Fact]
    public void Any_string_comes_back_code_unit_for_code_unit()
    {
        Prop.ForAll(Texts.ToArbitrary(), text => string.Equals(text, RoundTrip(text), StringComparison.Ordinal))
            .QuickCheckThrowOnFailure();
    }

    [Theory]
    [InlineData(511)]
    [InlineData(600)]
    [InlineData(100_000)]
    public void Text_after_a_nul_past_512_bytes_is_kept(int length)
    {
        string text = new string('a', length) + "\0b";
        Assert.Equal(text, RoundTrip(text));
    }

    [Fact]
    public void Valid_unicode_is_stored_as_plain_utf8()
    {
        const string text = "naïve 😀 \0 end";
        Assert.Equal(Encoding.UTF8.GetBytes(text), Wtf8.Encode(text));
        Assert.Equal(text, Wtf8.Decode(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void A_lone_surrogate_takes_its_three_byte_form_and_a_pair_stays_four_bytes()
    {
        Assert.Equal(new byte[] { 0x61, 0xED, 0xA0, 0xBD, 0x62 }, Wtf8.Encode("a\uD83Db"));
        Assert.Equal(new byte[] { 0xF0, 0x9F, 0x98, 0x80 }, Wtf8.Encode("\uD83D\uDE00"));
        Assert.Equal("\uDE00\uD83D", Wtf8.Decode(Wtf8.Encode("\uDE00\uD83D")));
    }

    [Fact]
    public void Text_stored_before_is_read_the_same_way()
    {
        using var write = _connection.CreateCommand();
        write.CommandText = "DELETE FROM t; INSERT INTO t VALUES ('plain old text é')";
        write.ExecuteNonQuery();
        using var read = _connection.CreateCommand();
        read.CommandText = "SELECT x FROM t WHERE x = CAST($x AS TEXT)";
        read.Parameters.AddWithValue("$x", ExactText.Bind("plain old text é"));
        using var reader = read.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal("plain old text é", ExactText.Read(reader, 0));
    }
}
