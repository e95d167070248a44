using System.Net;

namespace ContextCompiler.Server.Tests;

/// <summary>Per-tenant rate limiting: off by default; when on, a tenant over its permits gets 429 problems with Retry-After.</summary>
public sealed class RateLimitTests
{
    [Fact]
    public async Task A_tenant_over_its_permits_gets_a_429_problem_with_retry_after_and_others_are_not_affected()
    {
        var settings = new Dictionary<string, string>
        {
            ["ContextCompiler:RateLimit:Enabled"] = "true",
            ["ContextCompiler:RateLimit:PermitsPerWindow"] = "3",
            ["ContextCompiler:RateLimit:Window"] = "00:10:00",
        };
        using var factory = new ServerFactory(ServerFactory.NewFolder(), settings);
        var alpha = factory.Client();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await alpha.GetAsync("/v1/sessions")).StatusCode);
        }

        var refused = await alpha.GetAsync("/v1/sessions");
        var problem = await refused.AssertProblem(429);
        Assert.Contains("3 requests", problem.GetProperty("detail").GetString());
        Assert.NotNull(refused.Headers.RetryAfter?.Delta);
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 600);

        Assert.Equal(HttpStatusCode.OK, (await factory.Client(ServerFactory.BetaKey).GetAsync("/v1/sessions")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await alpha.GetAsync("/health")).StatusCode);
        factory.DeleteFolder();
    }

    [Fact]
    public async Task Rate_limiting_is_off_by_default()
    {
        using var factory = new ServerFactory();
        var alpha = factory.Client();
        var statuses = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ => (await alpha.GetAsync("/v1/sessions")).StatusCode));
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        factory.DeleteFolder();
    }
}
