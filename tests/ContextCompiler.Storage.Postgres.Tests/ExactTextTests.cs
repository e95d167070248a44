using ContextCompiler.Core.Text;
using Npgsql;

namespace ContextCompiler.Storage.Postgres.Tests;

/// <summary>Client text survives PostgreSQL code unit for code unit as WTF-8 bytea, while its searchable copy is valid text.</summary>
[Collection(MigratedCollection.Name)]
public sealed class ExactTextTests(MigratedDatabase fixture)
{
    public static readonly string[] Texts =
    [
        "ordinary text, with ünïcödé",
        "before\0after",
        "\0",
        "lone high \uD83D here",
        "lone low \uDE00 here",
        "\uDE00\uD83D reversed pair",
        "ends with a high \uDBFF",
        "emoji 😀 and 👩‍💻",
        "",
        new string('x', 5000) + "\0" + new string('y', 5000),
    ];

    [PgliteFact]
    public async Task Exact_text_round_trips_through_bytea_and_the_searchable_copy_is_text()
    {
        var database = fixture.Database;
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var create = new NpgsqlCommand(
            "CREATE TABLE IF NOT EXISTS exact_text_probe (n integer PRIMARY KEY, exact bytea NOT NULL, searchable text NOT NULL)", connection);
        await create.ExecuteNonQueryAsync();

        for (int n = 0; n < Texts.Length; n++)
        {
            await using var insert = new NpgsqlCommand("INSERT INTO exact_text_probe VALUES ($1, $2, $3)", connection);
            insert.Parameters.Add(new NpgsqlParameter { Value = n });
            insert.Parameters.Add(new NpgsqlParameter { Value = PostgresText.Bind(Texts[n]) });
            insert.Parameters.Add(new NpgsqlParameter { Value = SearchableText.Of(Texts[n]) });
            await insert.ExecuteNonQueryAsync();
        }

        // Read back on a new query; the server's own view of the bytes shows the NUL is stored, not lost on the way.
        await using var select = new NpgsqlCommand(
            "SELECT n, exact, searchable, length(exact), position('\\x00'::bytea IN exact) > 0 FROM exact_text_probe WHERE n = ANY($1) ORDER BY n", connection);
        select.Parameters.Add(new NpgsqlParameter { Value = Enumerable.Range(0, Texts.Length).ToArray() });
        await using var reader = await select.ExecuteReaderAsync();
        int rows = 0;
        while (await reader.ReadAsync())
        {
            int n = reader.GetInt32(0);
            string text = Texts[n];
            Assert.Equal(text, PostgresText.Read(reader, 1));
            Assert.True(string.Equals(text, PostgresText.Read(reader, 1), StringComparison.Ordinal), $"text {n} changed");
            Assert.Equal(SearchableText.Of(text), reader.GetString(2));
            Assert.DoesNotContain('\0', reader.GetString(2));
            Assert.Equal(Wtf8.Encode(text).Length, reader.GetInt32(3));
            Assert.Equal(text.Contains('\0'), reader.GetBoolean(4));
            rows++;
        }

        Assert.Equal(Texts.Length, rows);
    }

    [PgliteFact]
    public async Task Text_with_nul_is_rejected_by_a_text_column_which_is_why_bytea_holds_it()
    {
        await using var command = fixture.Database.DataSource.CreateCommand("SELECT length($1::text)");
        command.Parameters.Add(new NpgsqlParameter { Value = "a\0b" });
        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync());
        Assert.Equal("22021", error.SqlState);
    }
}
