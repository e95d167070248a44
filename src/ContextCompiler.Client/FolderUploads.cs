namespace ContextCompiler.Client;

/// <summary>Helpers over <see cref="IContextCompilerClient"/> built from its calls.</summary>
public static class FolderUploads
{
    /// <summary>
    /// Puts every file under <paramref name="folder"/> that matches <paramref name="searchPattern"/> into
    /// <paramref name="corpus"/>, at its path relative to the folder ('/' between folders), one PUT at a time in path
    /// order. Hidden files and folders are skipped. Each file's extension decides its kind. A file that fails stops the
    /// upload with that file's exception; the files before it stay stored, and running it again skips them as unchanged.
    /// </summary>
    /// <param name="searchPattern">Such as <c>*.md</c>; every file by default.</param>
    public static async Task<FolderUpload> UploadFolderAsync(
        this IContextCompilerClient client, string corpus, string folder, string searchPattern = "*", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var root = new DirectoryInfo(folder);
        if (!root.Exists)
        {
            throw new DirectoryNotFoundException($"'{folder}' is not a folder.");
        }

        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            AttributesToSkip = FileAttributes.Hidden | FileAttributes.System | FileAttributes.ReparsePoint,
        };
        var files = root.EnumerateFiles(searchPattern, options)
            .Select(f => (File: f, Path: Path.GetRelativePath(root.FullName, f.FullName).Replace(Path.DirectorySeparatorChar, '/')))
            // Dot-named entries are hidden on Unix by convention only; the attribute does not catch them everywhere.
            .Where(f => !f.Path.Split('/').Any(segment => segment.StartsWith('.')))
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .ToList();

        var written = new List<DocumentWrite>(files.Count);
        foreach (var (file, path) in files)
        {
            string text = await File.ReadAllTextAsync(file.FullName, cancellationToken).ConfigureAwait(false);
            written.Add(await client.PutDocumentAsync(corpus, path, text, mediaType: null, cancellationToken).ConfigureAwait(false));
        }

        return new FolderUpload(written);
    }
}
