using System.CommandLine;
using ContextCompiler.Engine.Index;
using ContextCompiler.Storage.Postgres;
using ContextCompiler.Storage.Postgres.Copy;
using Microsoft.Extensions.DependencyInjection;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Cli.Commands;

/// <summary>
/// <c>contextc copy --to postgres --to-connection-string C [--db FILE]</c>: moves the SQLite store into an empty
/// PostgreSQL database (migrating it first) and verifies every table's rows and content hash on both sides.
/// Output goes to the invocation's writers.
/// </summary>
internal static class CopyCommand
{
    public static Command Create()
    {
        var db = CliShared.DatabaseOption();
        var to = new Option<string>("--to")
        {
            Description = "The target store: postgres (the one there is to copy to).",
            Required = true,
        };
        to.AcceptOnlyFromAmong("postgres");
        var toConnection = new Option<string>("--to-connection-string")
        {
            Description = "The target's Npgsql connection string; its database must be empty.",
            Required = true,
        };
        var command = new Command("copy", "Copy the SQLite store, vectors included, into an empty PostgreSQL database and verify it.") { db, to, toConnection };
        command.SetAction((result, cancellationToken) =>
        {
            var output = result.InvocationConfiguration.Output;
            return CliShared.Run(result.InvocationConfiguration.Error, async () =>
            {
                var path = CliShared.SqlitePath(result.GetValue(db)!)
                    ?? throw new ArgumentException("The copy's source is a SQLite store: leave --provider at sqlite and name the file with --db or --connection-string.");
                using var services = CliShared.Existing(path);
                await using var target = new PostgresDatabase(result.GetValue(toConnection)!);
                var applied = await target.MigrateAsync(cancellationToken);
                if (applied.Count > 0)
                {
                    await output.WriteLineAsync($"target: applied migrations {string.Join(", ", applied)}");
                }

                var report = new SqliteToPostgresCopy(SqliteStore.Of(services).Index, target).Run();
                await output.WriteLineAsync($"{"table",-18} {"sqlite",10} {"postgres",10}  sha-256 (first 16)");
                foreach (var table in report.Tables)
                {
                    await output.WriteLineAsync(
                        $"{table.Name,-18} {table.SourceRows,10} {table.TargetRows,10}  {table.SourceHash[..16]} {(table.Verified ? "=" : "≠ " + table.TargetHash[..16])}");
                }

                await output.WriteLineAsync($"{report.Vectors} vectors copied; copy {report.CopyTime.TotalSeconds:F1} s, with verification {report.TotalTime.TotalSeconds:F1} s");
                if (!report.Verified)
                {
                    var differing = report.Tables.Where(t => !t.Verified).Select(t => t.Name);
                    await result.InvocationConfiguration.Error.WriteLineAsync($"contextc: error: verification failed: {string.Join(", ", differing)} differ.");
                    return ExitCodes.Failed;
                }

                await output.WriteLineAsync("verified");
                return ExitCodes.Success;
            });
        });
        return command;
    }
}
