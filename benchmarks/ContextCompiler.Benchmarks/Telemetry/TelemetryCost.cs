using System.Globalization;
using ContextCompiler.Benchmarks.Load;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ContextCompiler.Benchmarks.Telemetry;

/// <summary>
/// What OpenTelemetry costs a turn: <c>contextc serve</c> as its own process over one prepared copy of the default corpus,
/// with the OTLP exporter off (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c> unset: spans and metrics are still recorded, nothing
/// is sent) and on (exporting traces, metrics and logs over OTLP/HTTP to a loopback sink in this process, which reads and
/// drops every body). Rounds alternate the order of the two modes, so drift on a noisy machine falls on both:
///   dotnet run -c Release --project benchmarks/ContextCompiler.Benchmarks -- telemetry [--sessions 1,8] [--seconds 15] [--rounds 2]
/// Turns are the <c>turns</c> benchmark's: cold neural queries (a counter makes every message new), each followed by an
/// assistant reply, total budget 2000.
/// </summary>
internal static class TelemetryCost
{
    public static async Task<int> RunAsync(string[] args)
    {
        var sessionCounts = BenchmarkArgs.Option(args, "--sessions", "1,8").Split(',').Select(int.Parse).ToArray();
        double seconds = double.Parse(BenchmarkArgs.Option(args, "--seconds", "15"), CultureInfo.InvariantCulture);
        int rounds = int.Parse(BenchmarkArgs.Option(args, "--rounds", "2"), CultureInfo.InvariantCulture);
        string root = ContextCompiler.Engine.Assets.RepositoryLayout.Root() ?? throw new InvalidOperationException("Run from inside the repository.");
        var questions = QuestionSets.Read(root);
        string folder = Directory.CreateTempSubdirectory("contextc-telemetry-").FullName;
        string database = Path.Combine(folder, "bench.db");
        var common = new Dictionary<string, string?>
        {
            // The passage vectors come from the shared cache (the first run fills it); the queries stay cold.
            ["ContextCompiler__EmbeddingCachePath"] = Environment.GetEnvironmentVariable("CONTEXTC_EMBEDDING_CACHE") ?? Path.Combine(root, "data", "embedding-cache.db"),
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = null,
        };

        await using var sink = await Sink.StartAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        try
        {
            // The first start ingests the default corpus and embeds it; later starts reuse the file as it is.
            await using (var first = await ServeProcess.StartAsync(root, database, common))
            {
                await first.WaitForVectorsAsync(http);
            }

            Console.WriteLine("| Round | Exporter | Sessions | Turns | Turns/s | p50 (ms) | p95 (ms) | p99 (ms) | Errors | OTLP requests | OTLP KB |");
            Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            for (int round = 1; round <= rounds; round++)
            {
                bool[] modes = round % 2 == 1 ? [false, true] : [true, false];
                foreach (bool exporting in modes)
                {
                    var environment = new Dictionary<string, string?>(common);
                    if (exporting)
                    {
                        environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.Address;
                        environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
                    }

                    await using var server = await ServeProcess.StartAsync(root, database, environment);
                    using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(2) };
                    await TurnLoad.Drive(client, questions, 2, 3, keys: false); // warm-up: JIT, model, connections
                    foreach (int n in sessionCounts)
                    {
                        var (requests, bytes) = sink.Totals();
                        var (turns, elapsed, latencies, errors) = await TurnLoad.Drive(client, questions, n, seconds, keys: false);
                        // The batch exporter sends every 5 s; a last look after a pause counts what this run queued.
                        await Task.Delay(exporting ? 6000 : 0);
                        var (requestsAfter, bytesAfter) = sink.Totals();
                        Console.WriteLine(FormattableString.Invariant(
                            $"| {round} | {(exporting ? "on" : "off")} | {n} | {turns} | {turns / elapsed:F1} | {BenchmarkArgs.Percentile(latencies, 50):F2} | {BenchmarkArgs.Percentile(latencies, 95):F2} | {BenchmarkArgs.Percentile(latencies, 99):F2} | {errors} | {requestsAfter - requests} | {(bytesAfter - bytes) / 1024.0:F0} |"));
                    }
                }
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }

        return 0;
    }

    /// <summary>A loopback OTLP/HTTP endpoint that reads every body and keeps only counts, as a collector would cost its sender.</summary>
    private sealed class Sink : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private long _requests;
        private long _bytes;

        private Sink(WebApplication app) => _app = app;

        public string Address { get; private set; } = "";

        public (long Requests, long Bytes) Totals() => (Interlocked.Read(ref _requests), Interlocked.Read(ref _bytes));

        public static async Task<Sink> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            var app = builder.Build();
            var sink = new Sink(app);
            app.MapPost("/v1/{signal}", async (HttpContext context) =>
            {
                var buffer = new byte[16 * 1024];
                long total = 0;
                int read;
                while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
                {
                    total += read;
                }

                Interlocked.Increment(ref sink._requests);
                Interlocked.Add(ref sink._bytes, total);
                return Results.Ok();
            });
            await app.StartAsync();
            sink.Address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return sink;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
