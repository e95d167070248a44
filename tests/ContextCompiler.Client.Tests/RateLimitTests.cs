using System.Net;
using ContextCompiler.Server.Tests;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.Client.Tests;

/// <summary>A tenant over its rate limit: the client retries the 429 and then reports it with the server's Retry-After.</summary>
public sealed class RateLimitTests : IDisposable
{
    private readonly ServerFactory _factory = new(ServerFactory.NewFolder(), new Dictionary<string, string>
    {
        ["ContextCompiler:RateLimit:Enabled"] = "true",
        ["ContextCompiler:RateLimit:PermitsPerWindow"] = "1",
        ["ContextCompiler:RateLimit:Window"] = "00:10:00",
    });

    public void Dispose()
    {
        _factory.Dispose();
        _factory.DeleteFolder();
    }

    [Fact]
    public async Task Requests_over_the_limit_end_in_a_RateLimitedException_with_Retry_After()
    {
        var attempts = new CountingHandler();
        // Retry-After here is minutes away: waiting for it would only slow the test, so the retry comes at once.
        var client = TestClients.Provider(_factory, handlers: b => b.AddHttpMessageHandler(() => attempts),
                resilience: r => r.Retry.ShouldRetryAfterHeader = false)
            .GetRequiredService<IContextCompilerClient>();
        await client.ListSessionsAsync();

        var e = await Assert.ThrowsAsync<RateLimitedException>(() => client.ListSessionsAsync());

        Assert.Equal(HttpStatusCode.TooManyRequests, e.StatusCode);
        Assert.NotNull(e.RetryAfter);
        Assert.InRange(e.RetryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10));
        // The call that used the one permit, then the refused call and its three retries (the standard default).
        Assert.Equal(1 + 1 + 3, attempts.Count);
    }

    private sealed class CountingHandler : DelegatingHandler
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
