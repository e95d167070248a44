using Microsoft.Data.Sqlite;
using ContextCompiler.Engine.Index;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>Builds parameterised commands: values always travel as parameters, never in the SQL text.</summary>
internal static class Sql
{
    /// <summary>A command on <paramref name="connection"/> (inside <paramref name="transaction"/> when given); null values bind as SQL NULL.</summary>
    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }
}
