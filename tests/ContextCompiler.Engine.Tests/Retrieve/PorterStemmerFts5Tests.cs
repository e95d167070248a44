using ContextCompiler.Core.Retrieve;
using ContextCompiler.Engine.Assets;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace ContextCompiler.Engine.Tests.Retrieve;

/// <summary>
/// <see cref="PorterStemmer"/> against SQLite's own <c>porter</c> tokenizer over the vocabulary of the default corpus,
/// so that the in-memory BM25 index and the FTS5 index agree on what a term is.
/// </summary>
public sealed class PorterStemmerFts5Tests(ITestOutputHelper output)
{
    // The tokenizer arguments of span_fts (Migrations.cs), with and without the porter stage.
    private const string Unstemmed = "unicode61 remove_diacritics 2";
    private const string Stemmed = "porter " + Unstemmed;

    // 16 letters, to spell words at FTS5's 64-letter stemming limit.
    private const string X16 = "xxxxxxxxxxxxxxxx";

    [Fact]
    public void Every_corpus_word_gets_the_stem_fts5_gives_it()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();

        var words = CorpusWords(connection).Where(IsLowerAsciiWord).ToList();
        var fts5Stems = Fts5Stems(connection, words);

        var differences = words
            .Where(w => PorterStemmer.Stem(w) != fts5Stems[w])
            .Select(w => $"{w}: PorterStemmer {PorterStemmer.Stem(w)}, FTS5 {fts5Stems[w]}")
            .ToList();

        output.WriteLine($"Compared {words.Count} corpus words with FTS5's stems; {differences.Count} differ.");
        // A vocabulary this small would mean the corpus was not read, and agreement over it would prove little.
        Assert.True(words.Count > 1000, $"Only {words.Count} lower-case ASCII words were found in the corpus.");
        Assert.True(differences.Count == 0, $"{differences.Count} of {words.Count} words are stemmed differently:\n" + string.Join("\n", differences));
    }

    // Words that exercise the rules' edges, which the corpus does not: suffixes that are the whole stem, doubled y,
    // and the length limit.
    [Theory]
    [InlineData("ies")]
    [InlineData("sses")]
    [InlineData("eed")]
    [InlineData("ayying")]
    [InlineData(X16 + X16 + X16 + "xxxxxxxxxxxxxxx" + "s")]
    [InlineData(X16 + X16 + X16 + X16 + "s")]
    public void An_edge_case_word_gets_the_stem_fts5_gives_it(string word)
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        Assert.Equal(Fts5Stems(connection, [word])[word], PorterStemmer.Stem(word));
    }

    /// <summary>The distinct tokens of every file of corpora/sqlite-docs as span_fts's tokenizer splits them, before stemming.</summary>
    private static List<string> CorpusWords(SqliteConnection connection)
    {
        var corpus = RepositoryLayout.DefaultCorpus();
        if (corpus is null || !Directory.Exists(corpus))
        {
            Assert.Fail($"The default corpus is needed but {corpus ?? "corpora/sqlite-docs (no ContextCompiler.sln above the test folder)"} does not exist.");
        }

        Execute(connection, $"CREATE VIRTUAL TABLE corpus USING fts5(body, tokenize = '{Unstemmed}')");
        Execute(connection, "CREATE VIRTUAL TABLE corpus_vocab USING fts5vocab(corpus, 'row')");
        using (var transaction = connection.BeginTransaction())
        using (var insert = connection.CreateCommand())
        {
            insert.CommandText = "INSERT INTO corpus (body) VALUES ($body)";
            var body = insert.Parameters.Add("$body", SqliteType.Text);
            foreach (var file in Directory.EnumerateFiles(corpus, "*", SearchOption.AllDirectories))
            {
                body.Value = File.ReadAllText(file);
                insert.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        var words = new List<string>();
        using var select = connection.CreateCommand();
        select.CommandText = "SELECT term FROM corpus_vocab";
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            words.Add(reader.GetString(0));
        }

        return words;
    }

    /// <summary>
    /// FTS5's stem of each word: every word becomes its own row of a porter table, so the one token fts5vocab lists
    /// for a row is that word's stem.
    /// </summary>
    private static Dictionary<string, string> Fts5Stems(SqliteConnection connection, List<string> words)
    {
        Execute(connection, $"CREATE VIRTUAL TABLE stems USING fts5(word, tokenize = '{Stemmed}')");
        Execute(connection, "CREATE VIRTUAL TABLE stems_vocab USING fts5vocab(stems, 'instance')");
        using (var transaction = connection.BeginTransaction())
        using (var insert = connection.CreateCommand())
        {
            insert.CommandText = "INSERT INTO stems (rowid, word) VALUES ($row, $word)";
            var row = insert.Parameters.Add("$row", SqliteType.Integer);
            var word = insert.Parameters.Add("$word", SqliteType.Text);
            for (int i = 0; i < words.Count; i++)
            {
                row.Value = i + 1;
                word.Value = words[i];
                insert.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        var stems = new Dictionary<string, string>(StringComparer.Ordinal);
        using var select = connection.CreateCommand();
        select.CommandText = "SELECT doc, term FROM stems_vocab";
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            var word = words[(int)reader.GetInt64(0) - 1];
            // A second token for one row would mean the word was not a single token and the pairing is unsound.
            Assert.True(stems.TryAdd(word, reader.GetString(1)), $"'{word}' gave FTS5 more than one token.");
        }

        Assert.Equal(words.Count, stems.Count);
        return stems;
    }

    // The stemmer leaves anything else unchanged by design; FTS5 would stem digits and non-ASCII letters byte by byte.
    private static bool IsLowerAsciiWord(string word) => word.All(c => c is >= 'a' and <= 'z');

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
