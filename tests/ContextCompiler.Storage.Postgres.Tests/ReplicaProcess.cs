using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace ContextCompiler.Storage.Postgres.Tests;

/// <summary>
/// One replica of the service as its own process (<c>dotnet ContextCompiler.Server.dll</c>) on a PostgreSQL connection
/// string, so that a test can SIGKILL it mid-request, as an orchestrator or the OOM killer would, and start another on
/// the same database. It binds port 0 and reports its port on the "Now listening on" line.
/// </summary>
public sealed partial class ReplicaProcess : IDisposable
{
    public const string ApiKey = "key-replicas";

    // Replicas still alive when the test host exits are killed too, so a failed assertion never leaves servers behind.
    private static readonly ConcurrentDictionary<ReplicaProcess, byte> Live = new();

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StreamWriter _log;

    static ReplicaProcess() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        foreach (var replica in Live.Keys)
        {
            replica.Dispose();
        }
    };

    private ReplicaProcess(string name, string connectionString, string corpus, string logFile)
    {
        Name = name;
        LogFile = logFile;
        // Everything it prints, kept in a file: a 500 under load is explained only by the server's log.
        _log = new StreamWriter(logFile, append: false) { AutoFlush = true };
        var start = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in (string[])[Path.Combine(AppContext.BaseDirectory, "ContextCompiler.Server.dll"), "--urls", "http://127.0.0.1:0"])
        {
            start.ArgumentList.Add(argument);
        }

        // The shell's own ContextCompiler settings must not choose another store or key for the child.
        foreach (var inherited in start.Environment.Keys.Where(k => k.StartsWith("ContextCompiler__", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(inherited);
        }

        start.Environment["ContextCompiler__Storage__Provider"] = "postgres";
        start.Environment["ContextCompiler__Storage__ConnectionString"] = connectionString;
        start.Environment["ContextCompiler__CorpusPath"] = corpus;
        // The cache the other test projects share: the corpus's passages are usually embedded already.
        start.Environment["ContextCompiler__EmbeddingCachePath"] = Path.Combine(Path.GetTempPath(), "contextc-test-embedding-cache.db");
        start.Environment["ContextCompiler__ApiKeys__" + ApiKey] = "replicas";
        // A replica killed in the middle of a vector batch leaves its claimed spans to the others once the lease ends:
        // short here, so the test sees them filled within its wait.
        start.Environment["ContextCompiler__Storage__VectorClaimLease"] = "00:00:10";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";

        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => Record(e.Data);
        _process.ErrorDataReceived += (_, e) => Record(e.Data);
        _process.Exited += (_, _) => _listening.TrySetException(new InvalidOperationException($"{Name} exited before it listened."));
    }

    /// <summary>A name for messages ("replica 2, second start").</summary>
    public string Name { get; }

    /// <summary>The file holding everything the process printed.</summary>
    public string LogFile { get; }

    /// <summary>The address it listens on.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The last lines it printed, for failure messages.</summary>
    public string RecentOutput => string.Join('\n', _output);

    /// <summary>
    /// Starts a replica and returns once <c>/health/ready</c> is 200, that is once it has migrated (or found migrated)
    /// the database and its start-up work is done.
    /// </summary>
    public static async Task<ReplicaProcess> StartAsync(string name, string connectionString, string corpus, string logFile, TimeSpan timeout)
    {
        var replica = new ReplicaProcess(name, connectionString, corpus, logFile);
        Live[replica] = 0;
        try
        {
            replica._process.Start();
            replica._process.BeginOutputReadLine();
            replica._process.BeginErrorReadLine();
            using var deadline = new CancellationTokenSource(timeout);
            replica.BaseAddress = await replica._listening.Task.WaitAsync(deadline.Token);
            await replica.WaitUntilReadyAsync(deadline.Token);
            return replica;
        }
        catch (Exception e)
        {
            string output = replica.RecentOutput;
            replica.Dispose();
            throw new InvalidOperationException($"{name} did not become ready: {e.Message}\n{output}", e);
        }
    }

    /// <summary>SIGKILLs the process and waits until it is gone: no shutdown code runs, open requests and transactions are cut.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        catch (InvalidOperationException)
        {
            // Already exited: nothing left to kill.
        }
    }

    public void Dispose()
    {
        if (Live.TryRemove(this, out _))
        {
            Kill();
            _process.Dispose();
            lock (_log)
            {
                _log.Dispose();
            }
        }
    }

    // The test runner sets DOTNET_HOST_PATH to the dotnet that runs it; the same one runs the server.
    private static string DotnetHost() => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with {_process.ExitCode} while starting.");
            }

            try
            {
                using var response = await probe.GetAsync("/health/ready", cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Not accepting connections yet, or a probe queued behind PGlite's other work.
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // A line that arrives after the replica was disposed has nowhere to go and nobody to read it.
            }
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
