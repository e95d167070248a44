namespace ContextCompiler.Engine.Assets;

/// <summary>Finds the repository this program was built from, for its default corpus and question sets.</summary>
public static class RepositoryLayout
{
    /// <summary>
    /// The folder holding ContextCompiler.sln, found by walking up from the working folder and then from the
    /// program's folder; null when the program runs outside a checkout.
    /// </summary>
    public static string? Root()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "ContextCompiler.sln")))
                {
                    return folder.FullName;
                }
            }
        }

        return null;
    }

    /// <summary>The default corpus, <c>corpora/sqlite-docs</c> of the repository; null outside a checkout.</summary>
    public static string? DefaultCorpus() => Root() is { } root ? Path.Combine(root, "corpora", "sqlite-docs") : null;
}
