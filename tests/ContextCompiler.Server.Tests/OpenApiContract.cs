using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace ContextCompiler.Server.Tests;

/// <summary>
/// The published OpenAPI document as a checker of responses: the operation is found by method and path template, the
/// status must be declared for it (or a range or default), and the body must have a declared media type and match its
/// schema. Responses of routes the document does not have must be problem details.
/// </summary>
public sealed class OpenApiContract
{
    public const string DocumentPath = "/openapi/v1.json";
    public const string ProblemMediaType = "application/problem+json";
    private const string ComponentsPrefix = "#/components/schemas/";
    private const string DefsPrefix = "#/$defs/";
    private const int MaxErrors = 20;

    private static int _schemaIds;

    private static readonly EvaluationOptions Evaluation = new() { OutputFormat = OutputFormat.List, RequireFormatValidation = true };

    private readonly JsonObject _paths;
    private readonly JsonObject _defs;
    private readonly ConcurrentDictionary<string, JsonSchema> _schemas = new(StringComparer.Ordinal);

    public OpenApiContract(string document)
    {
        var root = JsonNode.Parse(document)?.AsObject() ?? throw new ArgumentException("The OpenAPI document is not a JSON object.");
        _paths = root["paths"]?.AsObject() ?? [];
        _defs = root["components"]?["schemas"]?.DeepClone().AsObject() ?? [];
        Close(_defs);
    }

    /// <summary>The errors of one response; empty when the document declares it exactly.</summary>
    public IReadOnlyList<string> Check(string method, string path, int status, string? mediaType, string body)
    {
        var template = Template(path);
        var operation = template is null ? null : _paths[template]?[method.ToLowerInvariant()]?.AsObject();
        if (operation is null)
        {
            // Unknown routes and methods are answered by the framework, which must still speak problem details.
            if (status < 400)
            {
                return [$"{method} {path} is not in the OpenAPI document, yet answered {status}."];
            }

            return mediaType != ProblemMediaType
                ? [$"{method} {path} is not in the OpenAPI document and its {status} is {mediaType ?? "without a body"}, not {ProblemMediaType}."]
                : ValidateComponent("ProblemDetails", body);
        }

        string where = $"{method} {template}";
        var responses = operation["responses"]?.AsObject() ?? [];
        var response = (responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] ?? responses[$"{status / 100}XX"] ?? responses["default"])?.AsObject();
        if (response is null)
        {
            return [$"{where} answered {status}, which the document does not declare (declared: {string.Join(", ", responses.Select(r => r.Key))})."];
        }

        var content = response["content"]?.AsObject();
        if (body.Length == 0)
        {
            return content is { Count: > 0 } ? [$"{where} answered {status} without a body, but the document declares {string.Join(", ", content.Select(c => c.Key))}."] : [];
        }

        if (content is not { Count: > 0 })
        {
            return [$"{where} answered {status} with a {mediaType} body, but the document declares none."];
        }

        var declared = mediaType is null ? null : content[mediaType] ?? content[mediaType.Split('/')[0] + "/*"] ?? content["*/*"];
        if (declared is null)
        {
            return [$"{where} answered {status} as {mediaType ?? "no media type"}, but the document declares {string.Join(", ", content.Select(c => c.Key))}."];
        }

        return declared["schema"] is { } schema ? Validate(schema, body) : [];
    }

    /// <summary>The errors of <paramref name="json"/> against the component schema <paramref name="name"/>.</summary>
    public IReadOnlyList<string> ValidateComponent(string name, string json) =>
        _defs.ContainsKey(name) ? Validate(new JsonObject { ["$ref"] = ComponentsPrefix + name }, json) : [$"The document has no {name} schema."];

    /// <summary>
    /// The document's path template that <paramref name="path"/> matches, literal segments before parameters. OpenAPI has
    /// no multi-segment parameter, so a template ending in a parameter (a document path) may, failing an exact match,
    /// take the remaining segments, as its catch-all route does.
    /// </summary>
    public string? Template(string path)
    {
        var segments = path.Trim('/').Split('/');
        var templates = _paths.Select(p => p.Key).Select(t => (Template: t, Segments: t.Trim('/').Split('/'))).ToList();
        return templates
            .Where(t => t.Segments.Length == segments.Length && Matches(t.Segments, segments))
            .OrderBy(t => t.Segments.Count(IsParameter))
            .Select(t => t.Template)
            .FirstOrDefault()
            ?? templates
                .Where(t => t.Segments.Length < segments.Length && IsParameter(t.Segments[^1]) && Matches(t.Segments, segments[..t.Segments.Length]))
                .OrderByDescending(t => t.Segments.Length)
                .Select(t => t.Template)
                .FirstOrDefault();

        static bool Matches(string[] template, string[] segments) =>
            template.Zip(segments).All(s => IsParameter(s.First) ? s.Second.Length > 0 : s.First == s.Second);

        static bool IsParameter(string segment) => segment.StartsWith('{') && segment.EndsWith('}');
    }

    private IReadOnlyList<string> Validate(JsonNode schema, string json)
    {
        JsonDocument instance;
        try
        {
            instance = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            return [$"The body is not JSON: {e.Message}"];
        }

        using (instance)
        {
            var results = Build(schema).Evaluate(instance.RootElement, Evaluation);
            if (results.IsValid)
            {
                return [];
            }

            var errors = (results.Details ?? [])
                .Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"at '{d.InstanceLocation}' ({d.EvaluationPath}): {e.Value}"))
                .Distinct()
                .ToList();
            return errors.Count == 0 ? ["The body does not match its schema."]
                : errors.Count > MaxErrors ? [.. errors.Take(MaxErrors), $"… and {errors.Count - MaxErrors} more"]
                : errors;
        }
    }

    private JsonSchema Build(JsonNode schema)
    {
        var root = schema.DeepClone();
        Rebase(root);
        string key = root.ToJsonString();
        return _schemas.GetOrAdd(key, _ =>
        {
            var document = root is JsonObject o ? o : new JsonObject { ["allOf"] = new JsonArray(root) };
            document["$schema"] = "https://json-schema.org/draft/2020-12/schema";
            document["$defs"] = _defs.DeepClone();
            using var parsed = JsonDocument.Parse(document.ToJsonString());
            var uri = new Uri($"https://contextcompiler.test/openapi/{Interlocked.Increment(ref _schemaIds)}");
            return JsonSchema.Build(parsed.RootElement.Clone(), new BuildOptions { SchemaRegistry = new SchemaRegistry() }, uri);
        });
    }

    // Components are referenced as #/components/schemas/X; in a standalone schema they live under $defs.
    private static void Rebase(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                if (o["$ref"] is JsonValue r && r.TryGetValue<string>(out var target) && target.StartsWith(ComponentsPrefix, StringComparison.Ordinal))
                {
                    o["$ref"] = DefsPrefix + target[ComponentsPrefix.Length..];
                }

                foreach (var child in o.Select(p => p.Value).ToList())
                {
                    Rebase(child);
                }

                break;
            case JsonArray a:
                foreach (var child in a)
                {
                    Rebase(child);
                }

                break;
        }
    }

    // The document leaves objects open (clients should tolerate new members), but the server must not send members
    // the document does not name, so here an object schema without additionalProperties admits no others.
    private static void Close(JsonObject defs)
    {
        Rebase(defs);
        foreach (var schema in Descendants(defs).OfType<JsonObject>())
        {
            if (schema["properties"] is JsonObject && !schema.ContainsKey("additionalProperties") && !schema.ContainsKey("unevaluatedProperties"))
            {
                schema["unevaluatedProperties"] = false;
            }
        }
    }

    private static IEnumerable<JsonNode> Descendants(JsonNode node)
    {
        yield return node;
        var children = node switch
        {
            JsonObject o => o.Select(p => p.Value),
            JsonArray a => a.AsEnumerable(),
            _ => [],
        };
        foreach (var child in children.OfType<JsonNode>().SelectMany(Descendants))
        {
            yield return child;
        }
    }
}

/// <summary>A response the OpenAPI document does not describe.</summary>
public sealed class OpenApiContractException(string message) : Exception(message);

/// <summary>
/// Checks every response against the published document before the test sees it, and fails the request with
/// <see cref="OpenApiContractException"/> when the document does not describe it.
/// </summary>
public sealed class OpenApiContractHandler(Func<Task<OpenApiContract>> contract, Action? checkedOne = null) : DelegatingHandler
{
    private const int MaxBodyExcerpt = 600;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        string path = request.RequestUri?.AbsolutePath ?? "/";
        if (path == OpenApiContract.DocumentPath)
        {
            return response;
        }

        // Buffered, so that the test can still read the body after it was checked here.
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        string body = await response.Content.ReadAsStringAsync(cancellationToken);
        int status = (int)response.StatusCode;
        var errors = (await contract()).Check(request.Method.Method, path, status, response.Content.Headers.ContentType?.MediaType, body);
        checkedOne?.Invoke();
        if (errors.Count > 0)
        {
            string excerpt = body.Length > MaxBodyExcerpt ? body[..MaxBodyExcerpt] + "…" : body;
            throw new OpenApiContractException(
                $"The OpenAPI document does not describe the response to {request.Method} {request.RequestUri?.PathAndQuery}: {status} " +
                $"{response.Content.Headers.ContentType}{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", errors)}{Environment.NewLine}Body: {excerpt}");
        }

        return response;
    }
}
