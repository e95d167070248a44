using ContextCompiler.Server.Endpoints;
using ContextCompiler.Server.Mcp;
using ContextCompiler.Server.Ui;

namespace ContextCompiler.Server;

/// <summary>Builds the ContextCompiler HTTP service; used by <c>contextc serve</c>, <see cref="ServerProgram"/> and the tests.</summary>
public static class ServerApp
{
    /// <summary>The address bound when no URL is configured: loopback only, so nothing is exposed by accident.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>
    /// A configured web application. Configuration comes from appsettings.json, environment variables and
    /// <paramref name="args"/>; <paramref name="configure"/> (for example command-line flags) is applied last.
    /// </summary>
    public static WebApplication Build(string[] args, Action<ServerOptions>? configure = null)
    {
        // Before the host starts its threads (contextc has done it already; the standalone server and tests have not).
        ContextCompiler.Embeddings.GlibcMalloc.Tune();
        var builder = WebApplication.CreateBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        // Per-request framework logs would drown out ingest progress and session logs, so the framework logs warnings only.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // The MCP SDK writes four Information lines for every tool call; the same reasoning applies.
        builder.Logging.AddFilter("ModelContextProtocol", LogLevel.Warning);
        // Scopes carry the trace and span ids (the host tracks them by default), so a log line can be found from its trace.
        builder.Logging.AddSimpleConsole(o => o.IncludeScopes = true);
        builder.Services.AddContextCompilerServices(builder.Configuration, configure);
        builder.Services.AddContextCompilerMcp();
        builder.Services.AddContextCompilerUi();
        var app = builder.Build();
        app.UseContextCompilerPipeline();
        // One fixed document path: the default {documentName} route answers an unknown name with a plain-text 404 of its own,
        // which would bypass the problem responses every other error gets.
        app.MapOpenApi("/openapi/v1.json");
        app.MapSystemApi();
        app.MapCompileApi();
        app.MapSessionsApi();
        app.MapCorporaApi();
        app.MapContextCompilerMcp();
        app.MapContextCompilerUi();
        return app;
    }
}

/// <summary>Entry point for running the server on its own (<c>dotnet run --project src/ContextCompiler.Server</c>).</summary>
public sealed class ServerProgram
{
    private ServerProgram()
    {
    }

    /// <summary>Runs until Ctrl+C or SIGTERM, then shuts down gracefully.</summary>
    public static Task Main(string[] args) => ServerApp.Build(args).RunAsync();
}
