using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using ContextCompiler.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ContextCompiler.Benchmarks.Mcp;

/// <summary>
/// What serving a compile over MCP costs on top of plain HTTP, for one compile at a time:
///   dotnet run -c Release --project benchmarks/ContextCompiler.Benchmarks -- mcp [--requests 500] [--budget 1000] [--files wal.md,…|all]
/// The real server (Kestrel on a loopback port, a fresh SQLite file over a copy of corpora/sqlite-docs, default the five
/// pages the server tests use) answers N identical compiles as POST /v1/compile and as the MCP tool compile_context
/// called through the SDK's client (stateless Streamable HTTP), both over real sockets, interleaved and alternating
/// which goes first so that drift in machine load falls on both alike. The query repeats, so its embedding comes from
/// the in-memory cache after warm-up: the compile itself is the same on both paths, and what differs is the protocol.
/// </summary>
internal static class McpOverhead
{
    private const string ApiKey = "bench-key";
    private const string Query = "How do I enable write-ahead logging?";
    private static readonly string[] DefaultFiles = ["wal.md", "pragma.md", "lang_upsert.md", "lang_transaction.md", "foreignkeys.md"];

    public static async Task<int> RunAsync(string[] args)
    {
        int requests = int.Parse(BenchmarkArgs.Option(args, "--requests", "500"), CultureInfo.InvariantCulture);
        int budget = int.Parse(BenchmarkArgs.Option(args, "--budget", "1000"), CultureInfo.InvariantCulture);
        string files = BenchmarkArgs.Option(args, "--files", string.Join(',', DefaultFiles));
        string root = ContextCompiler.Engine.Assets.RepositoryLayout.Root() ?? throw new InvalidOperationException("Run from inside the repository.");
        await using var server = await LoopbackServer.StartAsync("mcp", (o, folder) =>
        {
            o.CorpusPath = CopyCorpus(Path.Combine(root, "corpora", "sqlite-docs"), Path.Combine(folder, "sqlite-docs"), files);
            o.EmbeddingCachePath = Environment.GetEnvironmentVariable("CONTEXTC_EMBEDDING_CACHE") ?? Path.Combine(folder, "embedding-cache.db");
            o.ApiKeys[ApiKey] = "bench";
        });
        await server.WaitForVectorsAsync();
        var address = server.Address;
        using var http = new HttpClient { BaseAddress = address };
        http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(address, "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["X-Api-Key"] = ApiKey },
        });
        await using var mcp = await McpClient.CreateAsync(transport);
        var arguments = new Dictionary<string, object?> { ["query"] = Query, ["budget"] = budget };

        // Warm-up: JIT on both paths, the query embedding cache, the connection pools.
        string httpHash = string.Empty, mcpHash = string.Empty;
        int httpBytes = 0, mcpTextChars = 0, mcpStructuredChars = 0;
        for (int i = 0; i < 30; i++)
        {
            (httpHash, httpBytes) = await CompileOverHttp(http, budget);
            (mcpHash, mcpTextChars, mcpStructuredChars) = await CompileOverMcp(mcp, arguments);
        }

        if (httpHash != mcpHash)
        {
            throw new InvalidOperationException($"The two paths compiled different working sets ({httpHash} and {mcpHash}).");
        }

        var httpTimes = new List<double>(requests);
        var mcpTimes = new List<double>(requests);
        for (int i = 0; i < requests; i++)
        {
            if (i % 2 == 0)
            {
                httpTimes.Add(await Time(() => CompileOverHttp(http, budget)));
                mcpTimes.Add(await Time(() => CompileOverMcp(mcp, arguments)));
            }
            else
            {
                mcpTimes.Add(await Time(() => CompileOverMcp(mcp, arguments)));
                httpTimes.Add(await Time(() => CompileOverHttp(http, budget)));
            }
        }

        Console.WriteLine($"Query \"{Query}\", budget {budget}, {Directory.GetFiles(Path.Combine(server.Folder, "sqlite-docs")).Length} pages; {requests} compiles per path after 30 warm-up pairs; same working set on both (sha256 {httpHash[..12]}…).");
        Console.WriteLine(FormattableString.Invariant(
            $"Response: HTTP body {httpBytes} bytes; MCP result carries the working set twice, as text content ({mcpTextChars} chars) and as structuredContent ({mcpStructuredChars} chars)."));
        Console.WriteLine();
        Console.WriteLine("| Path | Requests | p50 (ms) | p95 (ms) | mean (ms) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Row("POST /v1/compile", httpTimes);
        Row("MCP compile_context", mcpTimes);
        var paired = mcpTimes.Zip(httpTimes, (m, h) => m - h).ToList();
        Console.WriteLine(FormattableString.Invariant(
            $"| MCP − HTTP | | {BenchmarkArgs.Percentile(mcpTimes, 50) - BenchmarkArgs.Percentile(httpTimes, 50):F2} | {BenchmarkArgs.Percentile(mcpTimes, 95) - BenchmarkArgs.Percentile(httpTimes, 95):F2} | {mcpTimes.Average() - httpTimes.Average():F2} |"));
        Console.WriteLine();
        Console.WriteLine(FormattableString.Invariant(
            $"Per-pair difference (MCP − HTTP of the same iteration): p50 {BenchmarkArgs.Percentile(paired, 50):F2} ms, p95 {BenchmarkArgs.Percentile(paired, 95):F2} ms."));

        return 0;
    }

    private static void Row(string name, List<double> times) =>
        Console.WriteLine(FormattableString.Invariant(
            $"| {name} | {times.Count} | {BenchmarkArgs.Percentile(times, 50):F2} | {BenchmarkArgs.Percentile(times, 95):F2} | {times.Average():F2} |"));

    private static async Task<double> Time<T>(Func<Task<T>> call)
    {
        long start = Stopwatch.GetTimestamp();
        await call();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    // The whole body is read and parsed, as a client of the API would, so both paths pay for their response's JSON.
    private static async Task<(string Hash, int Bytes)> CompileOverHttp(HttpClient http, int budget)
    {
        using var response = await http.PostAsJsonAsync("/v1/compile", new { query = Query, budget });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadAsByteArrayAsync();
        using var set = JsonDocument.Parse(body);
        return (set.RootElement.GetProperty("manifest").GetProperty("contextHash").GetString()!, body.Length);
    }

    private static async Task<(string Hash, int TextChars, int StructuredChars)> CompileOverMcp(McpClient mcp, Dictionary<string, object?> arguments)
    {
        var result = await mcp.CallToolAsync("compile_context", arguments);
        if (result.IsError is true || result.StructuredContent is not { } set)
        {
            throw new InvalidOperationException("compile_context failed: " + string.Concat(result.Content.OfType<TextContentBlock>().Select(b => b.Text)));
        }

        int text = result.Content.OfType<TextContentBlock>().Sum(b => b.Text.Length);
        return (set.GetProperty("manifest").GetProperty("contextHash").GetString()!, text, set.GetRawText().Length);
    }

    private static string CopyCorpus(string source, string target, string files)
    {
        Directory.CreateDirectory(target);
        var names = files == "all" ? Directory.GetFiles(source).Select(Path.GetFileName).ToArray() : files.Split(',');
        foreach (var name in names)
        {
            File.Copy(Path.Combine(source, name!), Path.Combine(target, name!));
        }

        return target;
    }
}
