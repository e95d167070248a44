namespace ContextCompiler.Core.Ingest;

/// <summary>How a file's text is structured, which decides where spans may break.</summary>
public enum SourceKind
{
    /// <summary>Markdown: headings, paragraphs and code fences.</summary>
    Markdown,

    /// <summary>Plain text: paragraphs separated by blank lines.</summary>
    Text,

    /// <summary>HTML, converted to Markdown-like text that keeps its headings before chunking.</summary>
    Html,

    /// <summary>Source code: blank lines and top-level declarations.</summary>
    Code,
}

/// <summary>Decides from a file name whether and how a file is ingested.</summary>
public static class SourceClassifier
{
    private static readonly Dictionary<string, SourceKind> Kinds = new(StringComparer.OrdinalIgnoreCase)
    {
        [".md"] = SourceKind.Markdown,
        [".markdown"] = SourceKind.Markdown,
        [".txt"] = SourceKind.Text,
        [".html"] = SourceKind.Html,
        [".htm"] = SourceKind.Html,
        [".cs"] = SourceKind.Code,
        [".py"] = SourceKind.Code,
        [".js"] = SourceKind.Code,
        [".ts"] = SourceKind.Code,
        [".go"] = SourceKind.Code,
        [".rs"] = SourceKind.Code,
        [".java"] = SourceKind.Code,
        [".c"] = SourceKind.Code,
        [".h"] = SourceKind.Code,
        [".cpp"] = SourceKind.Code,
        [".json"] = SourceKind.Code,
        [".yaml"] = SourceKind.Code,
        [".yml"] = SourceKind.Code,
        [".toml"] = SourceKind.Code,
        [".sql"] = SourceKind.Code,
        [".sh"] = SourceKind.Code,
    };

    /// <summary>The kind for <paramref name="path"/>, or null when its extension is not supported.</summary>
    public static SourceKind? Classify(string path) =>
        Kinds.TryGetValue(Path.GetExtension(path), out var kind) ? kind : null;
}
