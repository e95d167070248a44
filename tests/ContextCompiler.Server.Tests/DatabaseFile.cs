using System.Globalization;
using ContextCompiler.Engine.Assets;
using Microsoft.Data.Sqlite;

namespace ContextCompiler.Server.Tests;

/// <summary>Reads a server's SQLite file directly, beside the server, to check what it really stored.</summary>
public static class DatabaseFile
{
    /// <summary>A read-only connection to <paramref name="path"/> with sqlite-vec loaded, so that integrity_check can read the vector table too.</summary>
    public static SqliteConnection OpenReadOnly(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadOnly,
            // Without pooling the file is really closed when the test disposes the connection.
            Pooling = false,
        }.ToString());
        connection.Open();
        connection.LoadExtension(OfflineAssets.Default.Vec0Path);
        return connection;
    }

    /// <summary>Every row of <paramref name="sql"/>, each as its column values.</summary>
    public static List<object[]> Rows(this SqliteConnection db, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = db.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        using var reader = command.ExecuteReader();
        var rows = new List<object[]>();
        while (reader.Read())
        {
            var row = new object[reader.FieldCount];
            reader.GetValues(row);
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>The first column of the first row of <paramref name="sql"/>, as a number.</summary>
    public static long Scalar(this SqliteConnection db, string sql, params (string Name, object Value)[] parameters) =>
        Convert.ToInt64(db.Rows(sql, parameters)[0][0], CultureInfo.InvariantCulture);
}
