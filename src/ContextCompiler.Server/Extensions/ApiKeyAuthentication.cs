using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace ContextCompiler.Server;

/// <summary>
/// Authenticates API keys: the caller's tenant becomes the <see cref="TenantClaim"/> claim. With no keys configured every
/// caller is tenant <see cref="DefaultTenant"/>. A missing or unknown key is challenged with a 401 problem and
/// <c>WWW-Authenticate</c>.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyRing keys, IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Header = "X-Api-Key";
    public const string TenantClaim = "tenant";
    public const string DefaultTenant = "default";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (keys.IsEmpty)
        {
            return Task.FromResult(Success(DefaultTenant));
        }

        string? key = PresentedKey(Request);
        if (key is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        return Task.FromResult(keys.TenantOf(key) is { } tenant ? Success(tenant) : AuthenticateResult.Fail("The API key is not recognised."));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"{SchemeName} header=\"{Header}\", Bearer";
        await WriteProblemAsync(StatusCodes.Status401Unauthorized, "Unauthorized",
            result.Failure?.Message ?? $"An API key is required in the {Header} header or as Authorization: Bearer.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        return WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden", "This API key may not use this resource.");
    }

    private static string? PresentedKey(HttpRequest request)
    {
        string? key = request.Headers[Header].FirstOrDefault();
        if (string.IsNullOrEmpty(key) && request.Headers.Authorization.FirstOrDefault() is { } auth && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            key = auth["Bearer ".Length..].Trim();
        }

        return string.IsNullOrEmpty(key) ? null : key;
    }

    private AuthenticateResult Success(string tenant)
    {
        var identity = new ClaimsIdentity([new Claim(TenantClaim, tenant)], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    private Task WriteProblemAsync(int status, string title, string detail) =>
        problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        }).AsTask();
}

/// <summary>
/// The configured API keys, kept only as SHA-256 hashes. A lookup hashes the presented key and compares it with every
/// stored hash in constant time, so neither a dictionary's early exit nor a string comparison leaks how much of a key
/// was right.
/// </summary>
internal sealed class ApiKeyRing
{
    private readonly (byte[] Hash, string Tenant)[] _entries;

    public ApiKeyRing(IOptions<ServerOptions> options) =>
        _entries = options.Value.ApiKeys.Select(kv => (Hash(kv.Key), kv.Value)).ToArray();

    /// <summary>True when no keys are configured: authentication is off and every caller is the default tenant.</summary>
    public bool IsEmpty => _entries.Length == 0;

    /// <summary>The tenant of <paramref name="key"/>, or null. Takes the same time whichever key, if any, matches.</summary>
    public string? TenantOf(string key)
    {
        byte[] presented = Hash(key);
        string? tenant = null;
        foreach (var (hash, owner) in _entries)
        {
            // No early exit: every entry is compared, so the time does not tell which one matched.
            if (CryptographicOperations.FixedTimeEquals(presented, hash))
            {
                tenant = owner;
            }
        }

        return tenant;
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}

/// <summary>Reads the authenticated tenant.</summary>
public static class TenantClaims
{
    /// <summary>The tenant that authentication put on <paramref name="user"/>.</summary>
    public static string Tenant(this ClaimsPrincipal user) =>
        user.FindFirst(ApiKeyAuthenticationHandler.TenantClaim)?.Value
        ?? throw new InvalidOperationException("The request was not authenticated; the endpoint must require authorization.");
}
