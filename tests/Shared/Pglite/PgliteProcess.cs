using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace ContextCompiler.Testing.Pglite;

/// <summary>
/// A PGlite server (PostgreSQL 18 in WebAssembly with pgvector and pg_textsearch) as a process of its own:
/// <c>serve.mjs</c> of the PostgreSQL store tests' <c>pglite</c> folder, on a free loopback port and the data folder
/// given, started once the pinned packages are installed there (<c>npm ci</c>). Shared by the store's tests (their
/// fixture) and the scale-out benchmark, so both run the very server the store is tested against.
/// </summary>
/// <remarks>
/// PGlite runs one query at a time on one backend session that every connection shares: session state (SET, advisory
/// locks, temporary tables) is common to all connections, and while one connection is in a transaction or between the
/// Parse and the Sync of an extended-protocol exchange the others wait (serve.mjs). Good for correctness, not for
/// throughput.
/// </remarks>
internal sealed class PgliteProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly Process _process;
    private readonly string _dataFolder;
    private readonly StringBuilder _output = new();

    private PgliteProcess(Process process, string dataFolder, int port) => (_process, _dataFolder, Port) = (process, dataFolder, port);

    /// <summary>The loopback port the server listens on.</summary>
    public int Port { get; }

    /// <summary>
    /// Installs the packages in <paramref name="folder"/> if need be, starts the server on <paramref name="dataFolder"/>
    /// accepting <paramref name="maxConnections"/> connections (pglite-socket's <c>-m</c>; more are refused with a
    /// reset), and returns once it answers a query.
    /// </summary>
    public static async Task<PgliteProcess> StartAsync(string node, string npm, string folder, string dataFolder, int maxConnections)
    {
        await NpmCi.EnsureInstalledAsync(npm, folder);
        int port = FreePort();
        var start = new ProcessStartInfo(node)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // serve.mjs rather than pglite-socket's own server script: it keeps each connection's extended-protocol exchange
        // together on PGlite's one session, which concurrent connections (several replicas) need; see its header.
        foreach (string argument in (string[])["serve.mjs", $"--db={dataFolder}", "--host=127.0.0.1", $"--port={port}", $"--max-connections={maxConnections}"])
        {
            start.ArgumentList.Add(argument);
        }

        var server = new PgliteProcess(Process.Start(start) ?? throw new InvalidOperationException("node did not start."), dataFolder, port);
        server._process.OutputDataReceived += (_, e) => server.Record(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.Record(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        try
        {
            await server.WaitUntilReadyAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>
    /// A connection string for this server with <paramref name="poolSize"/> connections per data source. Npgsql's reset
    /// on returning a connection to the pool is DISCARD ALL, which on PGlite's one shared session would also drop the
    /// other connections' session state (their advisory locks among it), so it is off.
    /// </summary>
    public NpgsqlConnectionStringBuilder ConnectionString(int poolSize) => new()
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = "postgres",
        Database = "postgres",
        SslMode = SslMode.Disable,
        MaxPoolSize = poolSize,
        NoResetOnClose = true,
    };

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

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // The process tree: the server may have children, and a leftover node would keep the port and the folder.
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
            // A temp folder left behind is harmless; the OS cleans its temp folder.
        }
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = Stopwatch.StartNew();
        Exception? last = null;
        while (deadline.Elapsed < StartTimeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The PGlite server exited with {_process.ExitCode}:\n{Output()}");
            }

            try
            {
                // Unpooled: a probe left idle in Npgsql's global pool would hold one of the server's connections, and two
                // replicas' full pools would then be refused a connection.
                await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString(1).ConnectionString) { Pooling = false }.ConnectionString);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync();
                return;
            }
            catch (Exception e) when (e is NpgsqlException or SocketException or IOException or TimeoutException)
            {
                last = e;
                await Task.Delay(200);
            }
        }

        throw new TimeoutException($"The PGlite server did not accept connections within {StartTimeout}: {last?.Message}\n{Output()}");
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
        // Bound and released at once: another process could take it before the server does, but on loopback that is
        // rare, and the server would then exit with an error that WaitUntilReadyAsync reports.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Installs the pinned PGlite packages once, even when several test processes start at the same time.</summary>
internal static class NpmCi
{
    private static readonly SemaphoreSlim InProcess = new(1, 1);

    public static async Task EnsureInstalledAsync(string npm, string folder)
    {
        await InProcess.WaitAsync();
        try
        {
            if (IsInstalled(folder))
            {
                return;
            }

            // A lock file beside package.json, so a second test process waits for the first one's npm ci instead of
            // racing it in the same node_modules.
            using var fileLock = await AcquireAsync(Path.Combine(folder, ".npm-ci.lock"));
            if (IsInstalled(folder))
            {
                return;
            }

            var start = new ProcessStartInfo(npm)
            {
                WorkingDirectory = folder,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string argument in (string[])["ci", "--no-audit", "--no-fund"])
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start) ?? throw new InvalidOperationException("npm did not start.");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"`npm ci` in {folder} failed with {process.ExitCode}:\n{await stdout}\n{await stderr}");
            }
        }
        finally
        {
            InProcess.Release();
        }
    }

    // npm ci writes node_modules/.package-lock.json last; older than package-lock.json means the pins changed since.
    private static bool IsInstalled(string folder)
    {
        var installed = new FileInfo(Path.Combine(folder, "node_modules", ".package-lock.json"));
        var pinned = new FileInfo(Path.Combine(folder, "package-lock.json"));
        return installed.Exists && installed.LastWriteTimeUtc >= pinned.LastWriteTimeUtc;
    }

    private static async Task<FileStream> AcquireAsync(string path)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (waited.Elapsed < TimeSpan.FromMinutes(5))
            {
                await Task.Delay(250);
            }
        }
    }
}
