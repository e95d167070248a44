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
        var summaryEndpoint = new Option<string?>("--summary-endpoint")
        {
            Description = "An OpenAI-compatible API base URL whose model writes compaction summaries (its key from OPENAI_API_KEY); unset: extractive summaries.",
        };
        var summaryModel = new Option<string?>("--summary-model") { Description = "The chat model of --summary-endpoint, such as gpt-4o-mini." };
        var command = new Command("serve", "Run the HTTP service: stateless compile and conversation sessions.") { db, urls, summaryEndpoint, summaryModel };
        command.SetAction((result, cancellation) => CliShared.Run(async () =>
        {
            var args = new List<string>();
            if (result.GetValue(urls) is { } u)
            {
                args.AddRange(["--urls", u]);
            }

            // The store flags, when given, override appsettings.json and the environment, like --db.
            if (result.GetValue(CliShared.ProviderOption) is { } provider)
            {
                args.Add($"--ContextCompiler:Storage:Provider={provider}");
            }

            if (result.GetValue(CliShared.ConnectionStringOption) is { } connection)
            {
                args.Add($"--ContextCompiler:Storage:ConnectionString={connection}");
            }

            if (result.GetValue(summaryEndpoint) is { } endpoint)
            {
                args.Add($"--ContextCompiler:Summarizer:Endpoint={endpoint}");
            }

            if (result.GetValue(summaryModel) is { } model)
            {
                args.Add($"--ContextCompiler:Summarizer:Model={model}");
            }

            var path = result.GetValue(db);
            var app = ServerApp.Build([.. args], path is null ? null : o => o.DatabasePath = path);
            // Ctrl+C or SIGTERM cancels the token; the host then stops gracefully (in-flight requests finish, hosted services stop).
            await app.StartAsync(cancellation);
            await app.WaitForShutdownAsync(cancellation);
            return 0;
        }));
        return command;
    }
}
