using ContextCompiler.Core.Telemetry;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace ContextCompiler.Server.Mcp;

/// <summary>
/// The MCP counterpart of <see cref="ProblemMapping"/>: the service's own failures become tool results with
/// <c>isError</c> and the same message a <c>/v1</c> problem would carry, so an agent can read what to fix. Anything
/// else is left to the SDK, which answers with a generic error and does not leak the exception's text.
/// </summary>
internal static class ToolErrors
{
    /// <summary>Wraps a call-tool handler so that known failures come back as error results.</summary>
    public static McpRequestHandler<CallToolRequestParams, CallToolResult> Filter(McpRequestHandler<CallToolRequestParams, CallToolResult> next) =>
        async (context, cancellationToken) =>
        {
            try
            {
                return await next(context, cancellationToken);
            }
            catch (Exception e) when (ErrorKinds.Describe(e) is { } known)
            {
                // The HTTP request itself succeeds (200 with isError), so the error is counted here, by the status a /v1 call would get.
                Instrumentation.Errors.Add(1, new KeyValuePair<string, object?>(Tags.Status, known.Status), new KeyValuePair<string, object?>(Tags.Transport, "mcp"));
                // The same words as a /v1 problem's title, from the same table; another tenant's session is simply not found there too.
                return new CallToolResult { IsError = true, Content = [new TextContentBlock { Text = $"{known.Title}: {e.Message}" }] };
            }
        };
}
