using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ContextCompiler.Benchmarks;

/// <summary>
/// <c>contextc serve</c> as its own process, the way an operator runs it and a chatbot reaches it: the CLI built in the
/// benchmark's own configuration (the benchmarks project builds it), on port 0 (the port is read from the server's
/// "Now listening on" line), with extra environment variables. Killed with its process tree on dispose.
/// </summary>
internal sealed partial class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Queue<string> _recent = new();

    private ServeProcess(Process process) => _process = process;

    /// <summary>The address the server listens on.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>The server's process id, for reading its resource use.</summary>
    public int Pid => _process.Id;

    /// <summary>
    /// Starts <c>contextc serve --db <paramref name="database"/></c> from the repository root <paramref name="root"/>
    /// with <paramref name="environment"/> added (a null value removes a variable) and returns once it listens.
    /// </summary>
    public static async Task<ServeProcess> StartAsync(string root, string database, IReadOnlyDictionary<string, string?> environment)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(CliPath(root));
        foreach (var arg in new[] { "serve", "--db", database, "--urls", "http://127.0.0.1:0" })
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        var server = new ServeProcess(new Process { StartInfo = start, EnableRaisingEvents = true });
        server._process.OutputDataReceived += (_, e) => server.Record(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.Record(e.Data);
        server._process.Exited += (_, _) => server._listening.TrySetException(new InvalidOperationException("contextc serve exited:\n" + server.Recent()));
        server._process.Start();
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        server.Address = await server._listening.Task.WaitAsync(TimeSpan.FromMinutes(5));
        return server;
    }

    /// <summary>Waits until <c>/health</c> says every span has its vector (the first start embeds the corpus).</summary>
    public async Task WaitForVectorsAsync(HttpClient http)
    {
        while (true)
        {
            using var health = JsonDocument.Parse(await http.GetStringAsync(new Uri(Address, "/health")));
            var vectors = health.RootElement.GetProperty("vectors");
            if (vectors.GetProperty("complete").GetBoolean())
            {
                return;
            }

            Console.Error.WriteLine($"vectors {vectors.GetProperty("done").GetInt32()}/{vectors.GetProperty("total").GetInt32()}");
            await Task.Delay(5000);
        }
    }

    /// <summary>CPU time the server has used so far.</summary>
    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    /// <summary>The server's resident memory in MB, from /proc (Linux).</summary>
    public double ResidentMegabytes()
    {
        _process.Refresh();
        return _process.WorkingSet64 / 1024.0 / 1024.0;
    }

    /// <summary>The server's resident memory (VmRSS), threads and open file descriptors, read from /proc (Linux only).</summary>
    public ProcStatus ReadProcStatus()
    {
        double residentKilobytes = double.NaN;
        int threads = 0;
        foreach (string line in File.ReadLines($"/proc/{Pid}/status"))
        {
            // "VmRSS:	  123456 kB", "Threads:	42"
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            switch (fields)
            {
                case ["VmRSS:", var kilobytes, "kB"]:
                    residentKilobytes = double.Parse(kilobytes, CultureInfo.InvariantCulture);
                    break;
                case ["Threads:", var count]:
                    threads = int.Parse(count, CultureInfo.InvariantCulture);
                    break;
            }
        }

        return new ProcStatus(residentKilobytes / 1024, threads, Directory.EnumerateFileSystemEntries($"/proc/{Pid}/fd").Count());
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    // The CLI of the same configuration as this benchmark (Release or Debug), which the benchmarks project builds.
    private static string CliPath(string root)
    {
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        string path = Path.Combine(root, "src", "ContextCompiler.Cli", "bin", configuration, "net10.0", "contextc.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"contextc is not built at {path}; build the benchmarks project in {configuration}.");
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_recent)
        {
            _recent.Enqueue(line);
            if (_recent.Count > 40)
            {
                _recent.Dequeue();
            }
        }

        if (ListeningLine().Match(line) is { Success: true } match)
        {
            _listening.TrySetResult(new Uri(match.Groups[1].Value));
        }
    }

    private string Recent()
    {
        lock (_recent)
        {
            return string.Join('\n', _recent);
        }
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();
}

/// <summary>A process's figures from /proc.</summary>
/// <param name="ResidentMegabytes">VmRSS of /proc/PID/status, in MB.</param>
/// <param name="Threads">Threads of /proc/PID/status.</param>
/// <param name="OpenFiles">Entries of /proc/PID/fd: open files, sockets and pipes.</param>
internal sealed record ProcStatus(double ResidentMegabytes, int Threads, int OpenFiles);
