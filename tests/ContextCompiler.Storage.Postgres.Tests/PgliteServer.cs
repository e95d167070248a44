using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using Npgsql;

namespace ContextCompiler.Storage.Postgres.Tests;

/// <summary>
/// A PostgreSQL 18 with pgvector and pg_textsearch for the tests: PGlite (PostgreSQL in WebAssembly) served over the
/// wire protocol by pglite-socket, on a free loopback port and a fresh temporary database folder. The npm packages are
/// pinned in <c>pglite/package-lock.json</c> beside this file and installed with <c>npm ci</c> on first use.
/// </summary>
/// <remarks>
/// PGlite runs one query at a time on one backend session that every connection shares: session state (SET, advisory
/// locks, temporary tables) is common to all connections, and while one connection is in a transaction or between the
/// Parse and the Sync of an extended-protocol exchange the others wait (pglite/serve.mjs). Good for correctness, not
/// for throughput.
/// </remarks>
public sealed class PgliteServer : IAsyncLifetime
{
    /// <summary>
    /// Connections the server accepts (pglite-socket's <c>-m</c>; without it, one). More clients than this are refused
    /// with a reset. The tests of one server open several data sources in turn (the shared one, a second "replica" for
    /// the session contract, two for each two-replica test), and a pool keeps its idle connections for minutes, so the
    /// limit leaves room for all of them; PGlite queues their queries on its one session either way.
    /// </summary>
    public const int MaxConnections = 64;

    /// <summary>Npgsql's Maximum Pool Size for one data source on this server.</summary>
    public const int PoolSize = 4;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly StringBuilder _output = new();
    private Process? _process;
    private string? _dataFolder;

    /// <summary>The Npgsql connection string of the running server.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var node = NodeLocator.Current;
        if (!node.Found && !NodeLocator.MustRun)
        {
            // Every test here is skipped then (PgliteFactAttribute); starting nothing lets the run report the reason.
            return;
        }

        if (!node.Found)
        {
            // Reached only under CI (elsewhere PgliteFactAttribute skips): fail with the reason rather than skip.
            throw new InvalidOperationException(node.Reason);
        }

        string folder = PgliteFolder();
        await NpmCi.EnsureInstalledAsync(node.Npm!, folder);

        _dataFolder = Directory.CreateTempSubdirectory("contextc-pglite-").FullName;
        int port = FreePort();
        var start = new ProcessStartInfo(node.Node!)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // serve.mjs rather than pglite-socket's own server script: it keeps each connection's extended-protocol exchange
        // together on PGlite's one session, which concurrent connections (several replicas) need; see its header.
        foreach (string argument in (string[])["serve.mjs", $"--db={_dataFolder}", "--host=127.0.0.1", $"--port={port}", $"--max-connections={MaxConnections}"])
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        _process.OutputDataReceived += (_, e) => Record(e.Data);
        _process.ErrorDataReceived += (_, e) => Record(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = "postgres",
            Database = "postgres",
            SslMode = SslMode.Disable,
            MaxPoolSize = PoolSize,
            // Npgsql's reset on returning a connection to the pool is DISCARD ALL, which on PGlite's one shared session
            // would also drop the other connections' session state (their advisory locks among it).
            NoResetOnClose = true,
            // A query waits its turn behind every other connection's queries and transactions.
            CommandTimeout = 120,
            Timeout = 30,
        }.ConnectionString;
        await WaitUntilReadyAsync();
    }

    /// <summary>A new data source on this server with pgvector's types, as the store builds it.</summary>
    public PostgresDatabase NewDatabase() => new(ConnectionString);

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            // The process tree: the server may have children, and a leftover node would keep the port and the folder.
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        NpgsqlConnection.ClearAllPools();
        if (_dataFolder is not null)
        {
            try
            {
                Directory.Delete(_dataFolder, recursive: true);
            }
            catch (IOException)
            {
                // A temp folder left behind is harmless; the OS cleans its temp folder.
            }
        }
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = Stopwatch.StartNew();
        Exception? last = null;
        while (deadline.Elapsed < StartTimeout)
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"The PGlite server exited with {_process.ExitCode}:\n{Output()}");
            }

            try
            {
                // Unpooled: a probe left idle in Npgsql's global pool would hold one of the server's MaxConnections, and two
                // replicas' full pools (2 × PoolSize) would then be refused a connection.
                await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
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

    private static string PgliteFolder() =>
        typeof(PgliteServer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "PgliteFolder").Value!;
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
