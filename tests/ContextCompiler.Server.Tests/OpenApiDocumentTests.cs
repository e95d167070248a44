using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace ContextCompiler.Server.Tests;

/// <summary>The published document says what is sent, and the checker that every test response passes through really checks.</summary>
public sealed class OpenApiDocumentTests(SharedServer server) : IClassFixture<SharedServer>
{
    private const string ValidSession =
        """{"id":"s1","status":"open","createdAt":"2025-01-02T03:04:05.678+00:00","updatedAt":"2025-01-02T03:04:05.678+00:00","messageCount":0}""";

    private async Task<JsonObject> Schemas()
    {
        var text = await server.Factory.Client(apiKey: null).GetStringAsync(OpenApiContract.DocumentPath);
        return JsonNode.Parse(text)!["components"]!["schemas"]!.AsObject();
    }

    private static string[] Required(JsonObject schemas, string name) =>
        schemas[name]!["required"]?.AsArray().Select(r => r!.GetValue<string>()).ToArray() ?? [];

    private static bool Nullable(JsonObject schemas, string name, string property)
    {
        var schema = schemas[name]!["properties"]![property]!;
        return schema.ToJsonString().Contains("\"null\"", StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/sessions", "post", true)]
    [InlineData("/v1/sessions/{id}/turns", "post", true)]
    [InlineData("/v1/sessions/{id}/messages", "post", true)]
    [InlineData("/v1/compile", "post", false)]
    public async Task The_session_writes_document_the_optional_idempotency_key_header_and_its_422(string path, string method, bool documented)
    {
        var text = await server.Factory.Client(apiKey: null).GetStringAsync(OpenApiContract.DocumentPath);
        var operation = JsonNode.Parse(text)!["paths"]![path]![method]!;
        var header = operation["parameters"]?.AsArray().FirstOrDefault(p => (string?)p!["name"] == "Idempotency-Key" && (string?)p!["in"] == "header");
        Assert.Equal(documented, header is not null);
        Assert.Equal(documented, operation["responses"]!["422"] is not null);
        if (header is not null)
        {
            Assert.False((bool?)header["required"] ?? false);
        }
    }

    [Theory]
    [InlineData("Session", "userId")]
    [InlineData("Session", "metadata")]
    [InlineData("Session", "defaultBudgets")]
    [InlineData("Message", "metadata")]
    [InlineData("ExplainCandidate", "reason")]
    [InlineData("ExplainCandidate", "citation")]
    [InlineData("RecompileReport", "budget")]
    [InlineData("WorkingSet", "explain")]
    public async Task Properties_left_out_when_null_are_optional_and_not_nullable(string schema, string property)
    {
        var schemas = await Schemas();
        Assert.DoesNotContain(property, Required(schemas, schema));
        Assert.False(Nullable(schemas, schema, property), $"{schema}.{property} is never sent as null, yet the document allows null.");
    }

    [Fact]
    public async Task Properties_always_written_are_required_and_nullable_only_when_they_may_be_null()
    {
        var schemas = await Schemas();
        Assert.Superset(new HashSet<string>(["id", "status", "createdAt", "updatedAt", "messageCount"]), Required(schemas, "Session").ToHashSet());
        Assert.False(Nullable(schemas, "Session", "id"));
        foreach (var part in new[] { "userMessage", "workingSet", "assistantMessage" })
        {
            Assert.Contains(part, Required(schemas, "ReplayTurn"));
            Assert.True(Nullable(schemas, "ReplayTurn", part), $"ReplayTurn.{part} is written as null when absent.");
        }
    }

    [Fact]
    public async Task No_component_allows_null_so_a_nullable_reference_matches_exactly_one_branch()
    {
        var schemas = await Schemas();
        var contract = await server.Factory.Contract();

        // A component that allowed null would match null beside the oneOf's own null branch, and oneOf needs exactly one.
        Assert.All(schemas, s => Assert.DoesNotContain("\"null\"", s.Value!["type"]?.ToJsonString() ?? string.Empty, StringComparison.Ordinal));
        // A session's compaction settings are left out when it has none; a turn's compaction is written as null when it made none.
        Assert.False(Nullable(schemas, "Session", "compaction"));
        Assert.True(Nullable(schemas, "TurnResponse", "compaction"));
        Assert.Empty(contract.ValidateComponent("Session", ValidSession));
        Assert.Empty(contract.ValidateComponent("Session", ValidSession.Replace("\"messageCount\":0", "\"messageCount\":0,\"compaction\":{\"mode\":\"off\"}", StringComparison.Ordinal)));
        Assert.NotEmpty(contract.ValidateComponent("Session", ValidSession.Replace("\"messageCount\":0", "\"messageCount\":0,\"compaction\":null", StringComparison.Ordinal)));
        Assert.NotEmpty(contract.ValidateComponent("CompactionSettings", "null"));
    }

    [Fact]
    public async Task A_stored_working_set_is_described_as_a_WorkingSet_and_XML_docs_still_apply()
    {
        var schemas = await Schemas();
        Assert.Equal("#/components/schemas/WorkingSet", schemas["RawJson"]!["allOf"]![0]!["$ref"]!.GetValue<string>());
        Assert.Equal("A WorkingSet exactly as it was stored.", schemas["RawJson"]!["description"]!.GetValue<string>());
        Assert.StartsWith("A conversation with its counts.", schemas["Session"]!["description"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_checker_accepts_a_valid_body_and_rejects_wrong_ones()
    {
        var contract = await server.Factory.Contract();
        Assert.Empty(contract.ValidateComponent("Session", ValidSession));
        Assert.Empty(contract.ValidateComponent("Session", ValidSession.Replace("}", ""","userId":"u","metadata":{"a":[1]},"defaultBudgets":{"totalBudget":9}}""")));

        Assert.Contains(contract.ValidateComponent("Session", ValidSession.Replace("\"s1\"", "5")), e => e.Contains("/id", StringComparison.Ordinal));
        Assert.Contains(contract.ValidateComponent("Session", ValidSession.Replace("\"status\":\"open\",", "")), e => e.Contains("status", StringComparison.Ordinal));
        Assert.Contains(contract.ValidateComponent("Session", ValidSession.Replace("}", ""","userId":null}""")), e => e.Contains("/userId", StringComparison.Ordinal));
        Assert.Contains(contract.ValidateComponent("Session", ValidSession.Replace("}", ""","tenant":"alpha"}""")), e => e.Contains("/tenant", StringComparison.Ordinal));
        Assert.Contains(contract.ValidateComponent("Session", ValidSession.Replace("2025-01-02T03:04:05.678+00:00\",\"m", "yesterday\",\"m")), e => e.Contains("/updatedAt", StringComparison.Ordinal));
        Assert.NotEmpty(contract.ValidateComponent("Session", "[]"));
        Assert.NotEmpty(contract.ValidateComponent("Session", "not json"));
    }

    [Fact]
    public async Task The_checker_rejects_undeclared_statuses_media_types_and_routes()
    {
        var contract = await server.Factory.Contract();
        Assert.Empty(contract.Check("GET", "/v1/sessions/s1", 200, "application/json", ValidSession));
        Assert.Empty(contract.Check("DELETE", "/v1/sessions/s1", 204, null, ""));
        Assert.Empty(contract.Check("GET", "/v1/sessions/s1", 404, OpenApiContract.ProblemMediaType, """{"status":404,"title":"Not found","detail":"d","traceId":"t"}"""));

        Assert.Contains(contract.Check("GET", "/v1/sessions/s1", 418, OpenApiContract.ProblemMediaType, "{}"), e => e.Contains("418", StringComparison.Ordinal));
        Assert.NotEmpty(contract.Check("GET", "/v1/sessions/s1", 200, "text/plain", "hello"));
        Assert.NotEmpty(contract.Check("GET", "/v1/sessions/s1", 200, "application/json", ""));
        Assert.NotEmpty(contract.Check("DELETE", "/v1/sessions/s1", 204, "application/json", "{}"));
        Assert.NotEmpty(contract.Check("GET", "/v1/sessions/s1", 404, OpenApiContract.ProblemMediaType, """{"status":"404"}"""));
        Assert.NotEmpty(contract.Check("GET", "/v1/nowhere", 200, "application/json", "{}"));
        Assert.NotEmpty(contract.Check("GET", "/v1/nowhere", 404, "text/html", "<p>no</p>"));
        Assert.Empty(contract.Check("GET", "/v1/nowhere", 404, OpenApiContract.ProblemMediaType, """{"status":404}"""));
    }

    [Fact]
    public async Task A_response_the_document_does_not_describe_fails_the_request_with_path_status_body_and_errors()
    {
        using var handler = new OpenApiContractHandler(server.Factory.Contract)
        {
            InnerHandler = new Answer(HttpStatusCode.OK, """{"id":5}"""),
        };
        using var client = new HttpClient(handler) { BaseAddress = new Uri("http://localhost") };

        var error = await Assert.ThrowsAsync<OpenApiContractException>(() => client.GetAsync("/v1/sessions/s1"));
        Assert.Contains("GET /v1/sessions/s1", error.Message);
        Assert.Contains("200", error.Message);
        Assert.Contains("""{"id":5}""", error.Message);
        Assert.Contains("/id", error.Message);
    }

    [Fact]
    public async Task Every_client_the_factory_makes_checks_its_responses()
    {
        var factory = server.Factory;
        foreach (var client in new[] { factory.Client(), factory.CreateClient(), factory.CreateDefaultClient(), factory.CreateClient(new() { AllowAutoRedirect = false }) })
        {
            int before = factory.CheckedResponses;
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
            Assert.True(factory.CheckedResponses > before, "A client of the factory did not check its response against the OpenAPI document.");
        }
    }

    private sealed class Answer(HttpStatusCode status, string json) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, "application/json"), RequestMessage = request });
    }
}
