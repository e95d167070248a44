using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace ContextCompiler.Server.Tests;

/// <summary>
/// The real server as a child process (<c>dotnet ContextCompiler.Server.dll</c>) on real Kestrel, so that a test can
/// SIGKILL it and start it again on the same database file. The child binds port 0 and the test reads the port it got
/// from the server's "Now listening on" line, so parallel tests never race for a port.
/// </summary>
public sealed partial class ServerProcess : IDisposable
{
    public const string ApiKey = "key-crash";

    // Files from corpora/sqlite-docs: enough for retrieval to choose between, small enough that the first start ingests them in well under a second.
    private static readonly string[] CorpusFiles = ["wal.md", "pragma.md", "lang_transaction.md"];

    // Children still alive when the test host exits normally are killed here too, so an assertion that escapes a
    // finally block (or a test run cancelled between tests) does not leave servers running on the machine.
    private static readonly ConcurrentDictionary<ServerProcess, byte> Live = new();

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private HttpClient? _client;

    static ServerProcess() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        foreach (var server in Live.Keys)
        {
            server.Dispose();
        }
    };

    private ServerProcess(string root, IReadOnlyDictionary<string, string>? environment)
    {
        Root = root;
        var start = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ContextCompiler.Server.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("http://127.0.0.1:0");

        // Settings inherited from the shell running the tests must not change which database or keys the child uses.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("ContextCompiler__", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["ContextCompiler__DatabasePath"] = DatabasePathIn(root);
        start.Environment["ContextCompiler__CorpusPath"] = Path.Combine(root, "corpus");
        start.Environment["ContextCompiler__ApiKeys__" + ApiKey] = "crash";
        start.Environment["ContextCompiler__EmbeddingCachePath"] = ServerFactory.SharedEmbeddingCache;
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => Record(e.Data);
        _process.ErrorDataReceived += (_, e) => Record(e.Data);
        _process.Exited += (_, _) => _listening.TrySetException(new InvalidOperationException("The server exited before it listened:\n" + RecentOutput));
    }

    /// <summary>The folder holding the database and the corpus.</summary>
    public string Root { get; }

    /// <summary>The SQLite file the server writes.</summary>
    public string DatabasePath => DatabasePathIn(Root);

    /// <summary>The address the server listens on.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The last lines the server printed, for failure messages.</summary>
    public string RecentOutput => string.Join('\n', _output);

    /// <summary>A client of this server with the API key set; one per process, so a restarted server starts on fresh connections.</summary>
    public HttpClient Client => _client ??= new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
    {
        BaseAddress = BaseAddress,
        Timeout = TimeSpan.FromSeconds(60),
        DefaultRequestHeaders = { { "X-Api-Key", ApiKey } },
    };

    /// <summary>A new temporary folder with a small corpus for the server to ingest on its first start.</summary>
    public static string NewDataFolder()
    {
        var root = Directory.CreateTempSubdirectory("contextc-process-test-").FullName;
        var corpus = Directory.CreateDirectory(Path.Combine(root, "corpus")).FullName;
        var source = Path.Combine(ServerFactory.RepositoryRoot(), "corpora", "sqlite-docs");
        foreach (var file in CorpusFiles)
        {
            File.Copy(Path.Combine(source, file), Path.Combine(corpus, file));
        }

        return root;
    }

    /// <summary>
    /// Starts the server on the data in <paramref name="root"/>, with <paramref name="environment"/> added to its
    /// environment, and returns once GET /health answers.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(string root, TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var server = new ServerProcess(root, environment);
        Live[server] = 0;
        try
        {
            server._process.Start();
            server._process.BeginOutputReadLine();
            server._process.BeginErrorReadLine();
            using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(120));
            server.BaseAddress = await server._listening.Task.WaitAsync(deadline.Token);
            await server.WaitUntilHealthyAsync(deadline.Token);
            return server;
        }
        catch (Exception e)
        {
            server.Dispose();
            throw new InvalidOperationException($"The server in {root} did not become healthy: {e.Message}\n{server.RecentOutput}", e);
        }
    }

    /// <summary>SIGKILLs the server (and anything it started) and waits until it is gone: no shutdown code runs.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        catch (InvalidOperationException)
        {
            // It had already exited, or never started: there is nothing left to kill.
        }
    }

    /// <summary>Whether the child process is still running.</summary>
    public bool IsRunning
    {
        get
        {
            try
            {
                return !_process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }
    }

    /// <summary>Deletes <paramref name="root"/>; a folder that cannot be deleted is left for the OS to clean.</summary>
    public static void DeleteDataFolder(string root)
    {
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; failing the test for it would hide the real result.
        }
    }

    public void Dispose()
    {
        if (!Live.TryRemove(this, out _))
        {
            return;
        }

        Kill();
        _client?.Dispose();
        _process.Dispose();
    }

    private static string DatabasePathIn(string root) => Path.Combine(root, "server.db");

    // The test runner sets DOTNET_HOST_PATH to the dotnet that runs it; the same one runs the server.
    private static string DotnetHost() => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    private async Task WaitUntilHealthyAsync(CancellationToken cancellationToken)
    {
        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!IsRunning)
            {
                throw new InvalidOperationException("The server exited while starting.");
            }

            try
            {
                using var response = await probe.GetAsync("/health", cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not accepting connections yet.
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 200)
        {
            _output.TryDequeue(out _);
        }

        if (ListeningLine().Match(line) is { Success: true } match)
        {
            _listening.TrySetResult(new Uri(match.Groups[1].Value));
        }
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();
}
