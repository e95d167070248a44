using System.CommandLine;
using ContextCompiler.Server;
using Microsoft.Extensions.Hosting;

namespace ContextCompiler.Cli.Commands;

/// <summary><c>contextc serve [--db FILE] [--urls URL]</c>: runs the HTTP service until Ctrl+C or SIGTERM.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        // No default here: an unset flag leaves appsettings.json and environment variables in charge.
        var db = new Option<string?>("--db") { Description = $"The index and session database (default {CliShared.DefaultDatabase})." };
        var urls = new Option<string?>("--urls") { Description = $"Addresses to listen on (default {ServerApp.DefaultUrl})." };
        var command = new Command("serve", "Run the HTTP service: stateless compile and conversation sessions.") { db, urls };
        command.SetAction((result, cancellation) => CliShared.Run(async () =>
        {
            var args = result.GetValue(urls) is { } u ? new[] { "--urls", u } : [];
            var path = result.GetValue(db);
            var app = ServerApp.Build(args, path is null ? null : o => o.DatabasePath = path);
            // Ctrl+C or SIGTERM cancels the token; the host then stops gracefully (in-flight requests finish, hosted services stop).
            await app.StartAsync(cancellation);
            await app.WaitForShutdownAsync(cancellation);
            return 0;
        }));
        return command;
    }
}
