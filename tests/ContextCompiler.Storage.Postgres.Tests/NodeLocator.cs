namespace ContextCompiler.Storage.Postgres.Tests;

/// <summary>
/// Finds <c>node</c> and <c>npm</c> on the PATH for the PGlite server. Node.js/npm is a stated prerequisite of the
/// project (the build fetches its assets with npm), so without them these tests skip with the reason, except under CI.
/// </summary>
public static class NodeLocator
{
    private static readonly Lazy<NodeLocation> Found = new(Locate);

    /// <summary>node and npm of this run, or why they are missing.</summary>
    public static NodeLocation Current => Found.Value;

    /// <summary>True under CI (<c>CI=true</c>): there missing Node.js fails the tests, so CI cannot skip them quietly.</summary>
    public static bool MustRun => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static NodeLocation Locate()
    {
        string? node = OnPath("node");
        string? npm = OnPath("npm");
        return node is null || npm is null
            ? new NodeLocation(null, null, $"{(node is null ? "node" : "npm")} is not on the PATH.")
            : new NodeLocation(node, npm, null);
    }

    private static string? OnPath(string name)
    {
        string[] suffixes = OperatingSystem.IsWindows() ? [".exe", ".cmd", ""] : [""];
        foreach (string folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (string suffix in suffixes)
            {
                string candidate = Path.Combine(folder, name + suffix);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}

/// <summary>Node.js found for the PGlite server, or why it was not.</summary>
public sealed record NodeLocation(string? Node, string? Npm, string? Missing)
{
    /// <summary>Whether node and npm were both found.</summary>
    public bool Found => Missing is null;

    /// <summary>What a skipped or failed test says.</summary>
    public string Reason =>
        $"The PostgreSQL store tests run PGlite, which needs Node.js and npm. {Missing} " +
        "Install them with `apt-get install -y nodejs npm` (Debian/Ubuntu, as root).";
}

/// <summary>
/// A test against the PGlite server: skipped, with the reason, when Node.js is missing, except under CI, where it runs
/// and fails so that CI cannot skip it quietly.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PgliteFactAttribute : FactAttribute
{
    public PgliteFactAttribute()
    {
        var node = NodeLocator.Current;
        if (!node.Found && !NodeLocator.MustRun)
        {
            Skip = node.Reason;
        }
    }
}
