using System.Diagnostics;
using System.Net.Http.Json;
using ContextCompiler.Core.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace ContextCompiler.Server.Tests;

/// <summary>
/// The server's own OpenTelemetry set-up, read through the in-memory exporter: a turn over HTTP is one trace (request →
/// turn → compile → stages), the metrics record it, logs carry trace ids, and no attribute carries message text. Every
/// test server in this process shares the one activity source and meter, so spans are picked by the trace id the test
/// sends in <c>traceparent</c>, and counters are compared with at least, not exactly.
/// </summary>
public sealed class TelemetryTests : IDisposable
{
    private static readonly string[] Stages = ["retrieve.lexical", "retrieve.vector", "fuse", "select", "pack", "render"];

    private readonly List<Activity> _spans = [];
    private readonly List<Metric> _metrics = [];
    private readonly List<LogRecord> _logs = [];
    private readonly ServerFactory _factory;

    public TelemetryTests()
    {
        _factory = new ServerFactory(ServerFactory.NewFolder(), services: services =>
        {
            services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans));
            services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddInMemoryExporter(_metrics));
            services.ConfigureOpenTelemetryLoggerProvider(logging => logging.AddInMemoryExporter(_logs));
        });
    }

    [Fact]
    public async Task A_turn_over_http_is_one_trace_of_request_turn_compile_and_its_stages()
    {
        using var client = _factory.Client();
        string session = await client.CreateSession();
        // A message never asked before, so the query embedding is a real model run with a span of its own.
        string secret = "quokka" + Guid.NewGuid().ToString("N")[..8];
        string message = $"How does write-ahead logging keep readers going during a checkpoint, {secret}?";
        var trace = ActivityTraceId.CreateRandom();
        var caller = ActivitySpanId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/sessions/{session}/turns") { Content = JsonContent.Create(new { message, contextBudget = 800 }) };
        request.Headers.Add("traceparent", $"00-{trace.ToHexString()}-{caller.ToHexString()}-01");
        var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var turnBody = await response.Json();

        var spans = await SpansOf(trace, s => s.Source.Name == "Microsoft.AspNetCore");
        var server = Assert.Single(spans, s => s.Kind == ActivityKind.Server);
        Assert.Equal(caller, server.ParentSpanId);
        Assert.Equal("alpha", server.GetTagItem(Tags.Tenant));
        var turn = Assert.Single(spans, s => s.OperationName == "turn");
        Assert.Equal(server.SpanId, turn.ParentSpanId);
        Assert.Equal(Instrumentation.Name, turn.Source.Name);
        Assert.Equal("alpha", turn.GetTagItem(Tags.Tenant));
        Assert.Equal(session, turn.GetTagItem(Tags.Session));
        Assert.Equal(turnBody.GetProperty("workingSet").GetProperty("tokenCount").GetInt32(), turn.GetTagItem(Tags.TokensUsed));

        var compile = Assert.Single(spans, s => s.OperationName == "compile");
        Assert.Equal(turn.SpanId, compile.ParentSpanId);
        Assert.Equal(800, compile.GetTagItem(Tags.Budget));
        Assert.True((int)compile.GetTagItem(Tags.Candidates)! > 0);
        foreach (var stage in Stages)
        {
            var span = Assert.Single(spans, s => s.OperationName == stage);
            Assert.Equal(compile.SpanId, span.ParentSpanId);
        }

        // The stages run one after another inside the compile.
        var ordered = Stages.Select(stage => spans.Single(s => s.OperationName == stage)).ToList();
        for (int i = 1; i < ordered.Count; i++)
        {
            Assert.True(ordered[i].StartTimeUtc >= ordered[i - 1].StartTimeUtc, $"{ordered[i].OperationName} started before {ordered[i - 1].OperationName}");
        }

        var embed = Assert.Single(spans, s => s.OperationName == "embed");
        Assert.Equal(spans.Single(s => s.OperationName == "retrieve.vector").SpanId, embed.ParentSpanId);
        Assert.Equal("all-MiniLM-L6-v2", embed.GetTagItem(Tags.Model));
        Assert.True((long)embed.GetTagItem(Tags.InputTokens)! > 5);

        var store = Assert.Single(spans, s => s.OperationName == "turn.store");
        Assert.Equal(turn.SpanId, store.ParentSpanId);

        AssertNoAttributeHolds(secret);
    }

    [Fact]
    public async Task Metrics_record_turns_compiles_stages_errors_cache_hits_and_pending_vectors()
    {
        using var client = _factory.Client();
        string session = await client.CreateSession();
        string secret = "wombat" + Guid.NewGuid().ToString("N")[..8];
        await client.Turn(session, $"What does PRAGMA synchronous do, {secret}?");
        // The same compile twice: the second finds its query embedding in the cache.
        for (int i = 0; i < 2; i++)
        {
            var compiled = await client.PostAsJsonAsync("/v1/compile", new { query = $"foreign key constraints {secret}", budget = 300 });
            Assert.True(compiled.IsSuccessStatusCode);
        }

        await (await client.GetAsync("/v1/sessions/no-such-session")).AssertProblem(404);

        _factory.Services.GetRequiredService<MeterProvider>().ForceFlush();
        Assert.True(Sum("contextcompiler.turns") >= 1);
        Assert.True(Sum("contextcompiler.compiles") >= 3);
        Assert.True(HistogramCount("contextcompiler.turn.duration") >= 1);
        Assert.True(HistogramCount("contextcompiler.compile.duration") >= 3);
        foreach (var stage in Stages)
        {
            Assert.True(HistogramCount("contextcompiler.compile.stage.duration", (Tags.Stage, stage)) >= 3, stage);
        }

        Assert.True(Sum("contextcompiler.errors", (Tags.Status, 404)) >= 1);
        Assert.True(Sum("contextcompiler.cache.hits", (Tags.Cache, "query")) >= 1);
        Assert.True(Sum("contextcompiler.cache.misses", (Tags.Cache, "query")) >= 1);
        // The background filler embedded the corpus through the passage cache: each span a hit or a miss.
        Assert.True(Sum("contextcompiler.cache.hits", (Tags.Cache, "passage")) + Sum("contextcompiler.cache.misses", (Tags.Cache, "passage")) >= 1);
        Assert.True(HistogramCount("contextcompiler.embedding.throughput") >= 1);
        Assert.True(Sum("contextcompiler.embedding.tokens") > 0);
        // The server feeds the pending-vectors gauge. Its value is not this server's alone: every test server in the process
        // reports through the one meter, so the gauge's own readings are tested in Core, and this server's figure here.
        Assert.NotEmpty(Points("contextcompiler.vectors.pending"));
        var vectors = _factory.Services.GetRequiredService<VectorFiller>().Status;
        Assert.Equal(vectors.Total, vectors.Done);
        // And ASP.NET Core's own request metrics come through the same provider.
        Assert.NotEmpty(Points("http.server.request.duration"));

        foreach (var metric in _metrics)
        {
            foreach (var point in Points(metric.Name))
            {
                foreach (var tag in point.Tags)
                {
                    Assert.DoesNotContain(secret, tag.Value?.ToString() ?? "", StringComparison.Ordinal);
                }
            }
        }

        AssertNoAttributeHolds(secret);
    }

    [Fact]
    public async Task Logs_written_inside_a_span_carry_its_trace_id()
    {
        using var client = _factory.Client();
        _factory.Services.GetRequiredService<LoggerProvider>().ForceFlush();
        // The first start ingests the corpus inside an ingest span and logs its progress there. The logs are this server's
        // alone; the spans may include other test servers' ingests, so the span is found by the logs' ids.
        var progress = _logs.Where(l => l.CategoryName == typeof(StartupTasks).FullName && (l.FormattedMessage ?? l.Body)?.StartsWith("Ingest:", StringComparison.Ordinal) == true).ToList();
        Assert.NotEmpty(progress);
        var trace = progress[0].TraceId;
        Assert.NotEqual(default, trace);
        var ingest = Assert.Single(await SpansOf(trace, s => s.OperationName == "ingest"), s => s.OperationName == "ingest");
        Assert.True((int)ingest.GetTagItem(Tags.Documents)! > 0);
        Assert.All(progress, log => Assert.Equal(ingest.TraceId, log.TraceId));
        Assert.All(progress, log => Assert.Equal(ingest.SpanId, log.SpanId));
    }

    [Fact]
    public async Task A_document_write_is_a_span_with_its_tenant_corpus_and_size_but_not_its_path_or_text()
    {
        using var client = _factory.Client();
        var created = await client.PostAsJsonAsync("/v1/corpora", new { name = "notes" });
        Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        string secret = "platypus" + Guid.NewGuid().ToString("N")[..8];
        var trace = ActivityTraceId.CreateRandom();
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/v1/corpora/notes/documents/{secret}.md")
        {
            Content = new StringContent($"# Notes\n\nThe {secret} lives in rivers.\n", System.Text.Encoding.UTF8, "text/markdown"),
        };
        put.Headers.Add("traceparent", $"00-{trace.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        Assert.Equal(System.Net.HttpStatusCode.Created, (await client.SendAsync(put)).StatusCode);

        var write = Assert.Single(await SpansOf(trace, s => s.OperationName == "document.put"), s => s.OperationName == "document.put");
        Assert.Equal("alpha", write.GetTagItem(Tags.Tenant));
        Assert.Equal("notes", write.GetTagItem(Tags.Corpus));
        Assert.Equal(true, write.GetTagItem(Tags.Changed));
        Assert.True((long)write.GetTagItem(Tags.Bytes)! > 20);
        Assert.True((int)write.GetTagItem(Tags.Spans)! > 0);
        // The request span's url.path names the document; the engine's own spans never do.
        Assert.All(_spans.Where(s => s.Source.Name == Instrumentation.Name).ToList(),
            s => Assert.All(s.TagObjects, t => Assert.DoesNotContain(secret, t.Value?.ToString() ?? "", StringComparison.Ordinal)));
    }

    // The spans of one trace (every trace for the default id) once the one that matches arrived: spans are exported as
    // they end, and the request's own span ends only after the response is on its way to the client.
    private async Task<List<Activity>> SpansOf(ActivityTraceId trace, Func<Activity, bool> last)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            List<Activity> spans;
            lock (_spans)
            {
                spans = [.. _spans.Where(s => trace == default || s.TraceId == trace)];
            }

            if (spans.Any(last) || clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                return spans;
            }

            await Task.Delay(20);
        }
    }

    // Whatever the turn's message holds must never become a span attribute, in any trace of this process.
    private void AssertNoAttributeHolds(string secret)
    {
        List<Activity> spans;
        lock (_spans)
        {
            spans = [.. _spans];
        }

        Assert.NotEmpty(spans);
        foreach (var span in spans.Where(s => s.Source.Name == Instrumentation.Name))
        {
            Assert.DoesNotContain(secret, span.DisplayName, StringComparison.Ordinal);
            foreach (var tag in span.TagObjects)
            {
                Assert.False((tag.Value?.ToString() ?? "").Contains(secret, StringComparison.Ordinal), $"{span.OperationName}: {tag.Key} holds the message text");
            }
        }
    }

    private List<MetricPoint> Points(string name, params (string Key, object Value)[] tags)
    {
        var points = new List<MetricPoint>();
        foreach (var metric in _metrics.Where(m => m.Name == name))
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                var copy = point;
                if (tags.All(t => HasTag(copy, t.Key, t.Value)))
                {
                    points.Add(copy);
                }
            }
        }

        return points;
    }

    private static bool HasTag(MetricPoint point, string key, object value)
    {
        foreach (var tag in point.Tags)
        {
            if (tag.Key == key && Equals(tag.Value?.ToString(), value.ToString()))
            {
                return true;
            }
        }

        return false;
    }

    private long Sum(string name, params (string Key, object Value)[] tags) => Points(name, tags).Sum(p => p.GetSumLong());

    private long HistogramCount(string name, params (string Key, object Value)[] tags) => Points(name, tags).Sum(p => p.GetHistogramCount());

    public void Dispose()
    {
        _factory.Dispose();
        _factory.DeleteFolder();
    }
}
