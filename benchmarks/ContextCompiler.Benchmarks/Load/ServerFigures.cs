using System.Text.Json;

namespace ContextCompiler.Benchmarks.Load;

/// <summary>
/// The served process's resources at one moment: resident memory, threads and file descriptors from /proc, and what only
/// the process knows (managed heap, committed memory, collections, thread-pool threads) from the <c>process</c> object of
/// its own <c>GET /health</c>.
/// </summary>
internal sealed record ServerFigures(
    double ResidentMegabytes, double GcHeapMegabytes, double GcCommittedMegabytes, int Threads, int PoolThreads, int OpenFiles, int Gen0, int Gen1, int Gen2)
{
    /// <summary>Reads /proc of <paramref name="server"/> and its <c>/health</c> through <paramref name="http"/>.</summary>
    public static async Task<ServerFigures> ReadAsync(ServeProcess server, HttpClient http, CancellationToken cancellationToken = default)
    {
        using var health = JsonDocument.Parse(await http.GetStringAsync(new Uri(server.Address, "/health"), cancellationToken));
        var process = health.RootElement.GetProperty("process");
        var collections = process.GetProperty("gcCollections").EnumerateArray().Select(c => c.GetInt32()).ToArray();
        var proc = server.ReadProcStatus();
        return new ServerFigures(
            proc.ResidentMegabytes, Megabytes(process, "gcHeapBytes"), Megabytes(process, "gcCommittedBytes"), proc.Threads,
            process.GetProperty("threadPoolThreads").GetInt32(), proc.OpenFiles, collections[0], collections[1], collections[2]);
    }

    private static double Megabytes(JsonElement process, string name) => process.GetProperty(name).GetInt64() / 1024.0 / 1024.0;
}
