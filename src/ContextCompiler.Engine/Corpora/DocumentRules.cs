using System.Text;
using ContextCompiler.Core.Ingest;

namespace ContextCompiler.Engine.Corpora;

/// <summary>How every store pages a corpus's documents: the page size, and cursors that name the last path of a page.</summary>
public static class DocumentPaging
{
    /// <summary>The page size <paramref name="limit"/> asks for (default 100).</summary>
    /// <exception cref="ArgumentException">A limit outside 1..1000.</exception>
    public static int Take(int? limit)
    {
        int take = limit ?? 100;
        return take is >= 1 and <= 1000 ? take : throw new ArgumentException($"limit must be between 1 and 1000, not {take}.");
    }

    /// <summary>The cursor after <paramref name="path"/>: base64url of its UTF-8, without padding.</summary>
    public static string EncodeCursor(string path) => Convert.ToBase64String(Encoding.UTF8.GetBytes(path)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The path a cursor from <see cref="EncodeCursor"/> names.</summary>
    /// <exception cref="ArgumentException">Not a cursor this service returned.</exception>
    public static string DecodeCursor(string cursor)
    {
        try
        {
            string padded = cursor.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            return new UTF8Encoding(false, true).GetString(Convert.FromBase64String(padded));
        }
        catch (Exception e) when (e is FormatException or DecoderFallbackException)
        {
            throw new ArgumentException("cursor is not one this service returned.");
        }
    }
}

/// <summary>The rules for a document's path inside its corpus.</summary>
public static class DocumentPaths
{
    /// <summary>Longest accepted path, in characters.</summary>
    public const int MaxLength = 1024;

    /// <exception cref="ArgumentException">An empty, absolute or too long path, a '.' or '..' segment, an empty segment, a backslash or a control character.</exception>
    public static void Validate(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            throw new ArgumentException("The document path must not be empty.");
        }

        if (path.Length > MaxLength)
        {
            throw new ArgumentException($"The document path has {path.Length} characters; at most {MaxLength} are allowed.");
        }

        if (path.Any(char.IsControl) || !IsValidUnicode(path))
        {
            throw new ArgumentException("The document path must not contain control characters or invalid Unicode.");
        }

        if (path.StartsWith('/') || path.Contains('\\') || (path.Length >= 2 && path[1] == ':'))
        {
            throw new ArgumentException($"The document path must be relative, with '/' between folders: '{path}' is not.");
        }

        if (path.Split('/').Any(segment => segment is "" or "." or ".."))
        {
            throw new ArgumentException($"The document path must not have empty, '.' or '..' segments: '{path}' has.");
        }
    }

    private static bool IsValidUnicode(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>What kind of text a document is, from its media type or else its path.</summary>
public static class DocumentKinds
{
    /// <exception cref="ArgumentException">A media type that is not text the ingestor handles, or no media type and an unknown extension.</exception>
    public static SourceKind Of(string? mediaType, string path)
    {
        string? type = mediaType?.Split(';')[0].Trim().ToLowerInvariant();
        return type switch
        {
            null or "" or "application/octet-stream" => SourceClassifier.Classify(path)
                ?? throw new ArgumentException($"Give the document's media type (text/markdown, text/plain, text/html or a source-code type): '{path}' has no known extension."),
            "text/markdown" or "text/x-markdown" => SourceKind.Markdown,
            "text/plain" => SourceClassifier.Classify(path) is SourceKind.Code ? SourceKind.Code : SourceKind.Text,
            "text/html" or "application/xhtml+xml" => SourceKind.Html,
            "application/json" or "application/x-yaml" or "application/yaml" or "application/toml" or "application/sql" or "application/javascript"
                or "application/x-sh" => SourceKind.Code,
            _ when type.StartsWith("text/x-", StringComparison.Ordinal) || type is "text/javascript" or "text/css" or "text/csv" => SourceKind.Code,
            _ => throw new ArgumentException($"Media type '{mediaType}' is not one the service indexes (text/markdown, text/plain, text/html or source code)."),
        };
    }
}
