using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace ContextCompiler.Benchmarks.ScaleOut;

/// <summary>
/// A PostgreSQL for the scale-out benchmark: PGlite (PostgreSQL 18 compiled to WebAssembly, with pgvector and
/// pg_textsearch) served over the wire protocol by the PostgreSQL store tests' <c>pglite/serve.mjs</c>, on a free
/// loopback port and a fresh data folder. The tests' folder is reused rather than copied so that the benchmark runs the
/// very server (and the same pinned packages) the store is tested against; <c>npm ci</c> runs there if needed.
/// </summary>
/// <remarks>
/// PGlite runs one query at a time on one backend session that every connection shares, so what is measured here is a
/// floor: a real PostgreSQL gives each connection its own backend process.
/// </remarks>
internal sealed class PgliteProcess : IAsyncDisposable
{
    /// <summary>Connections the server accepts: room for three replicas' pools, the benchmark's own and the probes.</summary>
    public const int MaxConnections = 64;

    private readonly Process _process;
    private readonly string _dataFolder;
    private readonly StringBuilder _output = new();

    private PgliteProcess(Process process, string dataFolder, string connectionString)
    {
        _process = process;
        _dataFolder = dataFolder;
        ConnectionString = connectionString;
    }

    /// <summary>The Npgsql connection string of the running server, with the given pool size.</summary>
    public string ConnectionString { get; }

    /// <summary>The node process's resident memory in MB (WASM heap included).</summary>
    public double ResidentMegabytes()
    {
        _process.Refresh();
        return _process.WorkingSet64 / 1024.0 / 1024.0;
    }

    /// <summary>CPU time the node process (PGlite's one backend and the socket server) has used so far.</summary>
    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    /// <summary>Starts PGlite on a new data folder under <paramref name="temp"/> and returns once it answers a query.</summary>
    public static async Task<PgliteProcess> StartAsync(string root, string temp, int poolSize)
    {
        string folder = Path.Combine(root, "tests", "ContextCompiler.Storage.Postgres.Tests", "pglite");
        if (!File.Exists(Path.Combine(folder, "node_modules", ".package-lock.json")))
        {
            // The same pinned install the tests make (package-lock.json); node_modules is not in git.
            await RunAsync("npm", folder, "ci", "--no-audit", "--no-fund");
        }

        string data = Path.Combine(temp, "pgdata-" + Guid.NewGuid().ToString("N")[..8]);
        int port = FreePort();
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in (string[])["serve.mjs", $"--db={data}", "--host=127.0.0.1", $"--port={port}", $"--max-connections={MaxConnections}"])
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        string connectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = "postgres",
            Database = "postgres",
            SslMode = SslMode.Disable,
            MaxPoolSize = poolSize,
            // Npgsql's DISCARD ALL on return to the pool would reset the one session every connection shares on PGlite.
            NoResetOnClose = true,
            // Queries queue behind every other connection's on PGlite's one session; index builds take minutes.
            CommandTimeout = 1800,
            Timeout = 60,
        }.ConnectionString;
        var server = new PgliteProcess(process, data, connectionString);
        process.OutputDataReceived += (_, e) => server.Record(e.Data);
        process.ErrorDataReceived += (_, e) => server.Record(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await server.WaitUntilReadyAsync();
        return server;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        NpgsqlConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dataFolder, recursive: true);
        }
        catch (IOException)
        {
            // The caller's temp folder goes at the end of the run anyway.
        }
    }

    private async Task WaitUntilReadyAsync()
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"PGlite exited with {_process.ExitCode}:\n{Output()}");
            }

            try
            {
                // Unpooled, so the probe does not keep one of the server's connections.
                await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync();
                return;
            }
            catch (Exception e) when (e is NpgsqlException or SocketException or IOException or TimeoutException && clock.Elapsed < TimeSpan.FromSeconds(90))
            {
                await Task.Delay(200);
            }
        }
    }

    private void Record(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    private string Output()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string program, string folder, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = folder, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"`{program} {string.Join(' ', arguments)}` in {folder} failed with {process.ExitCode}.");
        }
    }
}
