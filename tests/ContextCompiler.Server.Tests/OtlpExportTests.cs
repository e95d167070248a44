using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.Server.Tests;

/// <summary>
/// The server as its own process with the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set sends a turn's trace, with its
/// compile stages, to a collector there over OTLP/HTTP; and without it, sends nothing. The collector is a loopback
/// listener that keeps the protobuf bodies it receives: span names and attribute keys are plain UTF-8 inside them.
/// </summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task A_collector_at_the_otlp_endpoint_receives_the_turn_trace_with_its_stages_metrics_and_logs()
    {
        await using var collector = await Collector.StartAsync();
        string root = ServerProcess.NewDataFolder();
        try
        {
            using var server = await ServerProcess.StartAsync(root, environment: new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Address,
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                // Short export intervals, so the test waits for seconds, not a minute.
                ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
                ["OTEL_BLRP_SCHEDULE_DELAY"] = "100",
            });
            var created = await server.Client.PostAsJsonAsync("/v1/sessions", new { userId = "otlp" });
            string session = (await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString()!;
            string secret = "narwhal" + Guid.NewGuid().ToString("N")[..8];
            var turn = await server.Client.PostAsJsonAsync($"/v1/sessions/{session}/turns", new { message = $"How do I checkpoint the WAL file, {secret}?" });
            Assert.True(turn.IsSuccessStatusCode, await turn.Content.ReadAsStringAsync());

            // The request's own span (named by its route) ends last, so it may come in a later batch than the turn's.
            string[] spans = ["POST /v1/sessions/{id}/turns", "turn", "compile", "retrieve.lexical", "retrieve.vector", "fuse", "select", "pack", "render", "turn.store"];
            var traces = await collector.WaitForAsync("/v1/traces", text => spans.All(s => text.Contains(s, StringComparison.Ordinal)));
            Assert.Contains("contextcompiler.tenant", traces, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, traces, StringComparison.Ordinal);

            var metrics = await collector.WaitForAsync("/v1/metrics", text => text.Contains("contextcompiler.turn.duration", StringComparison.Ordinal));
            Assert.Contains("contextcompiler.compile.stage.duration", metrics, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, metrics, StringComparison.Ordinal);

            await collector.WaitForAsync("/v1/logs", text => text.Contains("Ingest", StringComparison.Ordinal));
        }
        finally
        {
            ServerProcess.DeleteDataFolder(root);
        }
    }

    [Fact]
    public async Task Without_the_endpoint_nothing_is_exported()
    {
        await using var collector = await Collector.StartAsync();
        string root = ServerProcess.NewDataFolder();
        try
        {
            // The per-signal variables name the collector, so an exporter that were always on would send there; only
            // OTEL_EXPORTER_OTLP_ENDPOINT turns export on, and it is unset.
            using var server = await ServerProcess.StartAsync(root, environment: new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "",
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = collector.Address + "/v1/traces",
                ["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"] = collector.Address + "/v1/metrics",
                ["OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"] = collector.Address + "/v1/logs",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
                ["OTEL_BLRP_SCHEDULE_DELAY"] = "100",
            });
            var created = await server.Client.PostAsJsonAsync("/v1/sessions", new { userId = "quiet" });
            Assert.True(created.IsSuccessStatusCode);
            await Task.Delay(2000);
            Assert.Empty(collector.Received);
        }
        finally
        {
            ServerProcess.DeleteDataFolder(root);
        }
    }

    /// <summary>A loopback OTLP/HTTP collector that keeps every body by path, decoded as Latin-1 so every byte survives.</summary>
    private sealed class Collector : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Collector(WebApplication app, string address) => (_app, Address) = (app, address);

        public string Address { get; }

        public ConcurrentQueue<(string Path, string Body)> Received { get; } = new();

        public static async Task<Collector> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            Collector? self = null;
            app.MapPost("/v1/{signal}", async (HttpContext context) =>
            {
                using var buffer = new MemoryStream();
                await context.Request.Body.CopyToAsync(buffer);
                self!.Received.Enqueue((context.Request.Path.Value!, Encoding.Latin1.GetString(buffer.ToArray())));
                return Results.Ok();
            });
            await app.StartAsync();
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            self = new Collector(app, address);
            return self;
        }

        /// <summary>Everything received on <paramref name="path"/> once it satisfies <paramref name="done"/>, within 30 seconds.</summary>
        public async Task<string> WaitForAsync(string path, Func<string, bool> done)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                string all = string.Concat(Received.Where(r => r.Path == path).Select(r => r.Body));
                if (done(all))
                {
                    return all;
                }

                if (clock.Elapsed > TimeSpan.FromSeconds(30))
                {
                    Assert.Fail($"The collector did not receive the expected {path} within 30 s; it received {Received.Count} bodies on {string.Join(", ", Received.Select(r => r.Path).Distinct())}.");
                }

                await Task.Delay(50);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
