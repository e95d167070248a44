using System.Text;

namespace ContextCompiler.Server.Tests;

/// <summary>No input, however wrong, may produce a 5xx: every failure is a 4xx problem with a detail.</summary>
public sealed class RobustnessTests(SharedServer server) : IClassFixture<SharedServer>
{
    private readonly HttpClient _client = server.Factory.Client();

    public static TheoryData<string> Bodies =>
    [
        "", "null", "[]", "42", "\"text\"", "{", "{\"message\": 5}", "{\"message\": null}", "{\"query\": [], \"budget\": {}}",
        "{\"budget\": 9999999999999}", "{\"role\": 1, \"content\": true}", "{\"userId\": {}, \"metadata\": 1}",
        "{\"defaultBudgets\": {\"totalBudget\": -1}}", "{\"defaultBudgets\": {\"contextShare\": 2}}", "{\"message\": \"hi\", \"totalBudget\": \"many\"}",
        "{\"options\": {\"fusion\": \"magic\"}, \"query\": \"q\", \"budget\": 10}", "{\"message\": \"\\u0000\"}",
    ];

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task Malformed_bodies_on_every_write_route_are_4xx_problems(string body)
    {
        var id = await _client.CreateSession();
        foreach (var path in WriteRoutes(id))
        {
            var response = await _client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
            int status = (int)response.StatusCode;
            Assert.True(status < 500, $"{path} with {body} gave {status}: {await response.Content.ReadAsStringAsync()}");
            if (status >= 400)
            {
                await response.AssertProblem(status);
            }
        }
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_a_4xx_problem()
    {
        var id = await _client.CreateSession();
        foreach (var path in WriteRoutes(id))
        {
            var response = await _client.PostAsync(path, new StringContent("query=wal", Encoding.UTF8, "text/plain"));
            Assert.InRange((int)response.StatusCode, 400, 499);
            await response.AssertProblem((int)response.StatusCode);
        }
    }

    [Fact]
    public async Task A_body_over_the_limit_is_a_413_problem_on_every_write_route()
    {
        var id = await _client.CreateSession();
        var huge = $"{{\"message\": \"{new string('x', (int)ServerFactory.MaxBodyBytes)}\"}}";
        foreach (var path in WriteRoutes(id))
        {
            await (await _client.PostAsync(path, new StringContent(huge, Encoding.UTF8, "application/json"))).AssertProblem(413);
        }
    }

    private static string[] WriteRoutes(string id) =>
        ["/v1/compile", "/v1/sessions", $"/v1/sessions/{id}/turns", $"/v1/sessions/{id}/messages", $"/v1/sessions/{id}/replay/recompile"];
}
