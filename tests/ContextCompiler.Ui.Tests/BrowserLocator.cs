namespace ContextCompiler.Ui.Tests;

/// <summary>
/// Finds a Chromium for the browser tests without downloading one: the path in <see cref="PathVariable"/>, then Debian's
/// <c>/usr/bin/chromium</c>, then a browser that Playwright's own installer put in its cache. Looked up once per test run.
/// </summary>
public static class BrowserLocator
{
    /// <summary>Environment variable naming a Chromium or Chrome executable to use instead of the ones looked for.</summary>
    public const string PathVariable = "CONTEXTC_BROWSER";

    /// <summary>Where Debian's chromium package puts the browser.</summary>
    public const string DebianChromium = "/usr/bin/chromium";

    /// <summary>The one command that installs a browser the tests find, for the message of a skipped or failed run.</summary>
    public const string InstallCommand = "apt-get install -y chromium";

    private static readonly Lazy<BrowserLocation> Found = new(Locate);

    /// <summary>The browser this run uses, or why there is none.</summary>
    public static BrowserLocation Current => Found.Value;

    /// <summary>
    /// True under CI (<c>CI=true</c>, as CI services set it): there a missing browser must fail the tests, so that a CI run
    /// can never pass by skipping them quietly.
    /// </summary>
    public static bool MustRun => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static BrowserLocation Locate()
    {
        if (Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } configured)
        {
            // A configured path that is wrong is reported as such, not silently replaced by another browser.
            return File.Exists(configured)
                ? new BrowserLocation(configured, $"{PathVariable}={configured}", null)
                : new BrowserLocation(null, null, $"{PathVariable} names {configured}, which does not exist.");
        }

        if (File.Exists(DebianChromium))
        {
            return new BrowserLocation(DebianChromium, DebianChromium, null);
        }

        if (PlaywrightCache() is { } cache)
        {
            // Playwright finds its own browser (of the revision it expects) when no executable path is given.
            return new BrowserLocation(null, "Playwright's browser in " + cache, null);
        }

        return new BrowserLocation(null, null,
            $"No browser: {PathVariable} is unset, {DebianChromium} is missing and Playwright has installed no Chromium.");
    }

    // Playwright keeps the browsers its installer downloaded in PLAYWRIGHT_BROWSERS_PATH or a per-user cache folder.
    private static string? PlaywrightCache()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string?[] roots =
        [
            Environment.GetEnvironmentVariable("PLAYWRIGHT_BROWSERS_PATH"),
            Path.Combine(home, ".cache", "ms-playwright"),
            Path.Combine(home, "Library", "Caches", "ms-playwright"),
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "ms-playwright"),
        ];
        return roots.FirstOrDefault(root => !string.IsNullOrEmpty(root) && Directory.Exists(root)
            && Directory.EnumerateDirectories(root, "chromium*").Any());
    }
}

/// <summary>A browser found for the tests: its executable (null: Playwright's own), what it is, or why none was found.</summary>
public sealed record BrowserLocation(string? ExecutablePath, string? Description, string? Missing)
{
    /// <summary>Whether a browser was found.</summary>
    public bool Found => Missing is null;

    /// <summary>What a skipped or failed test says: why there is no browser and the command that installs one.</summary>
    public string Reason =>
        $"The browser tests need Chromium. {Missing} Install it with `{BrowserLocator.InstallCommand}` (Debian/Ubuntu, as root), " +
        $"or set {BrowserLocator.PathVariable} to a Chromium or Chrome executable.";
}

/// <summary>
/// A browser test: skipped, with the reason and the install command, when no browser is found, except under CI, where it
/// runs and fails so that CI cannot skip it quietly.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        var browser = BrowserLocator.Current;
        if (!browser.Found && !BrowserLocator.MustRun)
        {
            Skip = browser.Reason;
        }
    }
}
