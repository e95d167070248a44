using System.Security.Claims;
using ContextCompiler.Engine.Assets;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ContextCompiler.Server.Ui;

/// <summary>
/// The evaluators' web pages under <c>/ui</c>: Razor components rendered on the server (static SSR), signed in with the
/// same API keys and tenants as <c>/v1</c>. A key entered once is kept in a browser-session cookie.
/// </summary>
public static class UiSetup
{
    /// <summary>The cookie authentication scheme of the pages.</summary>
    public const string CookieScheme = "UiCookie";

    /// <summary>The name of the sign-in cookie.</summary>
    public const string CookieName = "contextc-ui";

    /// <summary>Razor components and the sign-in cookie.</summary>
    public static IServiceCollection AddContextCompilerUi(this IServiceCollection services)
    {
        services.AddRazorComponents();
        // The cookie and the forms' antiforgery tokens are protected with keys every replica on the store shares. They are
        // kept as Data Protection writes them (not encrypted at rest): whoever can read the database can also read its data.
        services.AddDataProtection().SetApplicationName("ContextCompiler");
        services.AddOptions<KeyManagementOptions>()
            .Configure<IServiceProvider>((o, sp) => o.XmlRepository = new StoreXmlRepository(sp.GetRequiredService<Engine.Stores.IStore>().KeyRing));
        services.AddAuthentication().AddCookie(CookieScheme, o =>
        {
            o.Cookie.Name = CookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.Cookie.Path = "/ui";
            o.SlidingExpiration = true;
            o.ExpireTimeSpan = TimeSpan.FromHours(12);
            // The pages never challenge through the cookie; should anything do so, answer 401/403 rather than redirect.
            o.Events.OnRedirectToLogin = c => { c.Response.StatusCode = StatusCodes.Status401Unauthorized; return Task.CompletedTask; };
            o.Events.OnRedirectToAccessDenied = c => { c.Response.StatusCode = StatusCodes.Status403Forbidden; return Task.CompletedTask; };
        });
        return services;
    }

    /// <summary>
    /// After UseAuthentication: on /ui, a request without an API key is authenticated by the sign-in cookie; a request
    /// that has neither gets a 401 with the sign-in form (not a redirect), except the sign-in page itself and /ui.
    /// </summary>
    public static IApplicationBuilder UseContextCompilerUiAuthentication(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            if (!path.StartsWithSegments("/ui"))
            {
                await next(context);
                return;
            }

            // A page answers its errors (an unknown session is a 404 page) itself, in HTML, not as problem JSON.
            if (context.Features.Get<Microsoft.AspNetCore.Diagnostics.IStatusCodePagesFeature>() is { } statusPages)
            {
                statusPages.Enabled = false;
            }

            if (HasTenant(context.User))
            {
                await next(context);
                return;
            }

            var cookie = await context.AuthenticateAsync(CookieScheme);
            if (cookie.Succeeded && HasTenant(cookie.Principal))
            {
                context.User = cookie.Principal;
                await next(context);
                return;
            }

            if (path.Equals("/ui") || path.Equals("/ui/") || path.Equals("/ui/login"))
            {
                await next(context);
                return;
            }

            await SignInForm(context, StatusCodes.Status401Unauthorized, null).ExecuteAsync(context);
        });

    /// <summary>The sign-in routes, the reports' files and the pages; none of them is in the OpenAPI document.</summary>
    public static void MapContextCompilerUi(this WebApplication app)
    {
        var ui = app.MapGroup("/ui").ExcludeFromDescription();
        ui.MapGet("/", () => Results.Redirect("/ui/sessions"));
        ui.MapGet("/login", (HttpContext context, ApiKeyRing keys) =>
            keys.IsEmpty || HasTenant(context.User) ? Results.Redirect("/ui/sessions") : SignInForm(context, StatusCodes.Status200OK, null));
        ui.MapPost("/login", (Delegate)Login).WithOrder(-1);
        ui.MapPost("/logout", (Delegate)Logout).WithOrder(-1);
        ui.MapGet("/reports/{**file}", Report);
        app.MapRazorComponents<App>().ExcludeFromDescription();
    }

    private static bool HasTenant(ClaimsPrincipal? user) => user?.FindFirst(ApiKeyAuthenticationHandler.TenantClaim) is not null;

    private static RazorComponentResult<SignInDocument> SignInForm(HttpContext context, int status, string? error)
    {
        var tokens = context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
        return new RazorComponentResult<SignInDocument>(new Dictionary<string, object?>
        {
            [nameof(SignInDocument.Error)] = error,
            [nameof(SignInDocument.TokenField)] = tokens.FormFieldName,
            [nameof(SignInDocument.Token)] = tokens.RequestToken,
        })
        { StatusCode = status };
    }

    private static async Task<bool> ValidForm(HttpContext context)
    {
        try
        {
            await context.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(context);
            return true;
        }
        catch (AntiforgeryValidationException)
        {
            return false;
        }
    }

    private static async Task<IResult> Login(HttpContext context, ApiKeyRing keys)
    {
        if (keys.IsEmpty)
        {
            return Results.Redirect("/ui/sessions");
        }

        if (!context.Request.HasFormContentType || !await ValidForm(context))
        {
            return SignInForm(context, StatusCodes.Status400BadRequest, "The form expired or was not sent from this page; please sign in again.");
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        string key = form["apiKey"].ToString().Trim();
        if (key.Length == 0 || keys.TenantOf(key) is not { } tenant)
        {
            return SignInForm(context, StatusCodes.Status401Unauthorized, key.Length == 0 ? "Enter an API key." : "That API key is not recognised.");
        }

        var identity = new ClaimsIdentity([new Claim(ApiKeyAuthenticationHandler.TenantClaim, tenant)], CookieScheme);
        await context.SignInAsync(CookieScheme, new ClaimsPrincipal(identity), new AuthenticationProperties { IsPersistent = false });
        return Results.Redirect("/ui/sessions");
    }

    private static async Task<IResult> Logout(HttpContext context)
    {
        if (!context.Request.HasFormContentType || !await ValidForm(context))
        {
            return Results.BadRequest();
        }

        await context.SignOutAsync(CookieScheme);
        return Results.Redirect("/ui/login");
    }

    /// <summary>The folder of the evaluation reports, or null outside a checkout.</summary>
    public static string? ReportsFolder() => RepositoryLayout.Root() is { } root ? Path.Combine(root, "benchmarks", "results") : null;

    // Only files inside benchmarks/results, by their path relative to it; anything else is a 404.
    private static IResult Report(string file)
    {
        if (ReportsFolder() is not { } folder || !Directory.Exists(folder) || file.Split('/', '\\').Any(s => s is "" or "." or ".."))
        {
            return Results.NotFound();
        }

        string root = Path.GetFullPath(folder) + Path.DirectorySeparatorChar;
        string full = Path.GetFullPath(Path.Combine(root, file));
        if (!full.StartsWith(root, StringComparison.Ordinal) || !File.Exists(full))
        {
            return Results.NotFound();
        }

        string type = Path.GetExtension(full).ToLowerInvariant() switch
        {
            ".svg" => "image/svg+xml",
            ".json" => "application/json; charset=utf-8",
            ".csv" => "text/csv; charset=utf-8",
            _ => "text/plain; charset=utf-8",
        };
        return new ReportFile(full, type);
    }

    // A report file with a policy that keeps any script in an SVG from running.
    private sealed class ReportFile(string path, string contentType) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'";
            context.Response.Headers.XContentTypeOptions = "nosniff";
            return Results.File(path, contentType).ExecuteAsync(context);
        }
    }
}
