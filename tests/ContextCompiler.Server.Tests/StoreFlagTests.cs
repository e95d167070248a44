using System.Diagnostics;

namespace ContextCompiler.Server.Tests;

/// <summary>
/// <c>contextc</c> as its own process: every command takes the store from <c>--provider</c> and <c>--connection-string</c>,
/// or from <c>ContextCompiler__Storage__*</c> in the environment, and refuses an unknown one before touching anything.
/// </summary>
public sealed class StoreFlagTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("contextc-store-flags-").FullName;

    [Theory]
    [InlineData("stats")]
    [InlineData("sessions list")]
    [InlineData("serve --urls http://127.0.0.1:0")]
    public async Task An_unknown_provider_flag_is_an_invalid_request_named_in_the_message(string command)
    {
        var (exit, _, error) = await Contextc([.. command.Split(' '), "--db", Path.Combine(_folder, "x.db"), "--provider", "mysql"]);
        Assert.Equal(2, exit);
        Assert.Contains("'mysql' names no store this host has", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_folder, "x.db")));
    }

    [Fact]
    public async Task The_provider_comes_from_the_environment_when_no_flag_names_it()
    {
        var (exit, _, error) = await Contextc(["stats", "--db", Path.Combine(_folder, "x.db")], ("ContextCompiler__Storage__Provider", "oracle"));
        Assert.Equal(2, exit);
        Assert.Contains("'oracle'", error, StringComparison.Ordinal);

        // The flag wins over the environment.
        (exit, _, error) = await Contextc(["stats", "--db", Path.Combine(_folder, "x.db"), "--provider", "sqlite"], ("ContextCompiler__Storage__Provider", "oracle"));
        Assert.Equal(1, exit);
        Assert.Contains("No index at", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sqlite_connection_string_names_the_file_instead_of_db()
    {
        string file = Path.Combine(_folder, "named.db");
        var (exit, _, error) = await Contextc(["sessions", "list", "--connection-string", $"Data Source={file}"]);
        Assert.Equal(1, exit);
        Assert.Contains($"No database at {file}", error, StringComparison.Ordinal);

        (exit, _, error) = await Contextc(["stats", "--db", Path.Combine(_folder, "other.db")], ("ContextCompiler__Storage__ConnectionString", file));
        Assert.Equal(1, exit);
        Assert.Contains($"No index at {file}", error, StringComparison.Ordinal);
    }

    private async Task<(int Exit, string Output, string Error)> Contextc(string[] args, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            WorkingDirectory = _folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "contextc.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // The shell's own store settings must not decide these runs.
        start.Environment.Remove("ContextCompiler__Storage__Provider");
        start.Environment.Remove("ContextCompiler__Storage__ConnectionString");
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
