namespace ContextCompiler.Engine.Ingest;

/// <summary>
/// Lists the files under each ingest root in a stable (ordinal path) order. Hidden files and folders
/// such as <c>.git</c> are not part of a corpus and are not listed.
/// </summary>
public static class SourceFinder
{
    /// <summary>Every file under <paramref name="roots"/>, with its corpus and relative path.</summary>
    /// <exception cref="DirectoryNotFoundException">A root does not exist.</exception>
    /// <exception cref="ArgumentException">Two files would get the same corpus and path.</exception>
    public static List<SourceFile> Find(IReadOnlyList<string> roots, string? corpus)
    {
        if (roots.Count == 0)
        {
            throw new ArgumentException("Give at least one folder or file to ingest.", nameof(roots));
        }

        var files = new List<SourceFile>();
        foreach (var root in roots)
        {
            var full = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar);
            if (File.Exists(full))
            {
                var folder = Path.GetDirectoryName(full)!;
                files.Add(new SourceFile(corpus ?? Path.GetFileName(folder), full, Path.GetFileName(full)));
                continue;
            }

            if (!Directory.Exists(full))
            {
                throw new DirectoryNotFoundException($"'{root}' is neither a folder nor a file.");
            }

            var name = corpus ?? Path.GetFileName(full);
            var enumeration = new EnumerationOptions
            {
                RecurseSubdirectories = true,
                IgnoreInaccessible = true,
                AttributesToSkip = FileAttributes.Hidden | FileAttributes.System | FileAttributes.ReparsePoint,
            };
            files.AddRange(Directory.EnumerateFiles(full, "*", enumeration)
                .Select(f => new SourceFile(name, f, Path.GetRelativePath(full, f).Replace(Path.DirectorySeparatorChar, '/'))));
        }

        var duplicate = files.GroupBy(f => (f.Corpus, f.RelativePath)).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"Two inputs both give '{duplicate.Key.Corpus}/{duplicate.Key.RelativePath}'; ingest them under different corpus names.");
        }

        return files
            .OrderBy(f => f.Corpus, StringComparer.Ordinal)
            .ThenBy(f => f.RelativePath, StringComparer.Ordinal)
            .ToList();
    }
}
