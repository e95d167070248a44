using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ContextCompiler.Engine.Sessions;
using ModelContextProtocol.AspNetCore;

namespace ContextCompiler.Server.Mcp;

/// <summary>MCP (Model Context Protocol) over Streamable HTTP at <see cref="Path"/>, behind the same API keys and tenants as <c>/v1</c>.</summary>
public static class McpApi
{
    /// <summary>Where MCP clients connect.</summary>
    public const string Path = "/mcp";

    // The same JSON shapes as /v1 (camelCase, enums as strings, stored working sets written back verbatim). The SDK
    // freezes the options it is given, which needs an explicit resolver; SessionJson.Options itself stays untouched.
    private static readonly JsonSerializerOptions ToolJson = new(SessionJson.Options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    /// <summary>Registers the MCP server, its tools and the mapping of the service's failures to tool errors.</summary>
    public static IServiceCollection AddContextCompilerMcp(this IServiceCollection services)
    {
        services.AddScoped<SessionGateway>();
        services.AddMcpServer()
            // Stateless: every POST is a whole exchange, so any instance can answer any request and no MCP session is
            // held in memory. The conversation state that matters lives in our SQLite sessions, addressed by id, and
            // the tools need nothing that only a stateful session offers (sampling, elicitation, server-sent notices).
            // The caller is also authenticated on each request rather than once when a session started.
            .WithHttpTransport(o => o.Stateless = true)
            .WithTools<ContextTools>(ToolJson)
            .WithRequestFilters(filters => filters.AddCallToolFilter(ToolErrors.Filter));
        return services;
    }

    /// <summary>Maps <see cref="Path"/>; a request without a valid API key is a 401 problem, as on <c>/v1</c>.</summary>
    public static IEndpointRouteBuilder MapContextCompilerMcp(this IEndpointRouteBuilder app)
    {
        // JSON-RPC is not described by the OpenAPI document, which stays the contract of /v1 alone.
        app.MapMcp(Path).RequireAuthorization().ExcludeFromDescription();
        return app;
    }
}
