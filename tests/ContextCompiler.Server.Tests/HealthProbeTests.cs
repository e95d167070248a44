using System.Net;
using ContextCompiler.Engine.Stores;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Server.Tests;

/// <summary>
/// The probes orchestrators call: <c>/health/live</c> answers whenever the process does; <c>/health/ready</c> runs the
/// ASP.NET Core health checks tagged ready (database, text index) and answers 503 when one fails, with vector progress as
/// data. <c>/health</c> keeps its old fields and adds the process's own figures. Every response is checked against the
/// OpenAPI document by the client.
/// </summary>
public sealed class HealthProbeTests(SharedServer server) : IClassFixture<SharedServer>
{
    [Fact]
    public async Task Liveness_answers_without_a_key_and_checks_nothing()
    {
        using var anonymous = server.Factory.Client(apiKey: null);
        var response = await anonymous.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Json();
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        Assert.Equal(0, body.GetProperty("checks").GetArrayLength());
    }

    [Fact]
    public async Task Readiness_reports_the_database_and_the_text_index_and_vector_progress_as_data()
    {
        using var anonymous = server.Factory.Client(apiKey: null);
        var response = await anonymous.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Json();
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        var checks = body.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("status").GetString());
        Assert.Equal(new Dictionary<string, string?> { ["database"] = "Healthy", ["text-index"] = "Healthy" }, checks);
        var vectors = body.GetProperty("vectors");
        Assert.True(vectors.GetProperty("total").GetInt32() > 0);
        Assert.Equal(vectors.GetProperty("total").GetInt32(), vectors.GetProperty("done").GetInt32());

        // The old endpoint keeps its shape.
        var health = await (await anonymous.GetAsync("/health")).Json();
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.True(health.GetProperty("vectors").GetProperty("complete").GetBoolean());
    }

    [Fact]
    public async Task Health_reports_the_process_memory_collections_threads_and_handles()
    {
        // The server runs in this process: a collection now makes sure the figures of a last collection exist.
        GC.Collect();
        using var anonymous = server.Factory.Client(apiKey: null);
        var figures = (await (await anonymous.GetAsync("/health")).Json()).GetProperty("process");

        long resident = figures.GetProperty("residentBytes").GetInt64();
        long heap = figures.GetProperty("gcHeapBytes").GetInt64();
        long committed = figures.GetProperty("gcCommittedBytes").GetInt64();
        Assert.True(heap > 0, $"gcHeapBytes {heap}");
        Assert.True(committed >= heap, $"gcCommittedBytes {committed} < gcHeapBytes {heap}");
        Assert.True(resident > heap, $"residentBytes {resident} <= gcHeapBytes {heap}");

        var collections = figures.GetProperty("gcCollections").EnumerateArray().Select(c => c.GetInt32()).ToArray();
        Assert.Equal(3, collections.Length);
        Assert.True(collections[2] >= 1, "the collection above is a gen-2 one");
        // Collecting a generation collects the younger ones too, so the counts never rise with the generation.
        Assert.True(collections[0] >= collections[1] && collections[1] >= collections[2], string.Join(",", collections));

        int threads = figures.GetProperty("threads").GetInt32();
        int pool = figures.GetProperty("threadPoolThreads").GetInt32();
        Assert.True(pool > 0 && threads > pool, $"threads {threads}, thread pool {pool}");
        Assert.True(figures.GetProperty("handles").GetInt32() > 0);
    }

    [Fact]
    public async Task Readiness_is_503_naming_the_failing_check()
    {
        using var factory = new ServerFactory(ServerFactory.NewFolder(), services: services => services.AddHealthChecks()
            .AddCheck("disk", () => HealthCheckResult.Unhealthy("The disk is full."), tags: [ReadinessChecks.ReadyTag]));
        try
        {
            using var client = factory.Client(apiKey: null);
            var response = await client.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            var body = await response.Json();
            Assert.Equal("Unhealthy", body.GetProperty("status").GetString());
            var disk = body.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "disk");
            Assert.Equal("The disk is full.", disk.GetProperty("description").GetString());
            // Liveness does not run the readiness checks: the process still answers.
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        }
        finally
        {
            factory.DeleteFolder();
        }
    }

    [Fact]
    public async Task The_text_index_check_waits_for_the_start_up_tasks_and_the_loaded_index()
    {
        using var _ = server.Factory.Client();
        var services = server.Factory.Services;
        var started = services.GetRequiredService<StartupTasks>();
        var loaded = services.GetRequiredService<IStore>();
        var context = new HealthCheckContext();

        // Start-up tasks that have not run yet.
        var notStarted = ActivatorUtilities.CreateInstance<StartupTasks>(services);
        var before = await new ReadinessChecks.TextIndexCheck(loaded, notStarted).CheckHealthAsync(context);
        Assert.Equal(HealthStatus.Unhealthy, before.Status);
        Assert.Contains("start-up", before.Description, StringComparison.Ordinal);

        // The same database opened again: its text index is not loaded until asked for.
        using var cold = new SqliteStoreProvider().Open(services, services.GetRequiredService<Engine.ContextCompilerOptions>());
        var unloaded = await new ReadinessChecks.TextIndexCheck(cold, started).CheckHealthAsync(context);
        Assert.Equal(HealthStatus.Unhealthy, unloaded.Status);
        cold.LoadTextIndex();
        var ready = await new ReadinessChecks.TextIndexCheck(cold, started).CheckHealthAsync(context);
        Assert.Equal(HealthStatus.Healthy, ready.Status);
    }
}
