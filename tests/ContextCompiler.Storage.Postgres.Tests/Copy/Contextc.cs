using System.CommandLine;
using ContextCompiler.Cli.Commands;

namespace ContextCompiler.Storage.Postgres.Tests.Copy;

/// <summary>Runs a <c>contextc</c> command in-process, as Program does: the store flags on the root, read before it runs.</summary>
internal static class Contextc
{
    public static async Task<(int Exit, string Output, string Error)> RunAsync(Command command, params string[] args)
    {
        var root = new RootCommand { command };
        root.Options.Add(CliShared.ProviderOption);
        root.Options.Add(CliShared.ConnectionStringOption);
        var parsed = root.Parse(args);
        CliShared.UseStorageFlags(parsed);
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exit = await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (parsed.Errors.Count > 0 ? ExitCodes.InvalidRequest : exit, output.ToString(), error.ToString() + string.Join("\n", parsed.Errors));
    }
}
