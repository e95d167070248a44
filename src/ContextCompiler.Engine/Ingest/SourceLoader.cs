using System.Security.Cryptography;
using System.Text;
using ContextCompiler.Core.Ingest;

namespace ContextCompiler.Engine.Ingest;

/// <summary>A file found under an ingest root.</summary>
/// <param name="FullPath">Where it is on disk (for a document given as text, its corpus and path).</param>
/// <param name="RelativePath">Its path relative to the root, with <c>/</c> separators: the artifact's path.</param>
public sealed record SourceFile(string Corpus, string FullPath, string RelativePath);

/// <summary>A file's bytes, hash and decoded, normalised text, or the reason it cannot be ingested.</summary>
public sealed record LoadedSource(SourceFile File, SourceKind? Kind, string ContentHash, long Bytes, string? Content, string? SkipReason);

/// <summary>
/// Reads and checks one file: size limit, binary content, strict UTF-8. Text is normalised to <c>\n</c>
/// line ends without a byte-order mark, and HTML is converted to text, because citations count lines of
/// the stored content.
/// </summary>
public static class SourceLoader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static string? PreCheck(SourceFile file, long maxBytes)
    {
        if (SourceClassifier.Classify(file.RelativePath) is null)
        {
            var extension = Path.GetExtension(file.RelativePath);
            return extension.Length == 0 ? "unsupported file type (no extension)" : $"unsupported file type ({extension})";
        }

        long length = new FileInfo(file.FullPath).Length;
        if (length > maxBytes)
        {
            return $"too large ({length} bytes; the limit is {maxBytes})";
        }

        return length == 0 ? "empty file" : null;
    }

    /// <summary>Checks the file, then reads its bytes and hash; decodes only when <paramref name="isUnchanged"/> says the hash is new, since unchanged files need no work.</summary>
    public static LoadedSource Load(SourceFile file, long maxBytes, Func<string, bool> isUnchanged)
    {
        if (PreCheck(file, maxBytes) is { } reason)
        {
            return new LoadedSource(file, null, string.Empty, 0, null, reason);
        }

        var kind = SourceClassifier.Classify(file.RelativePath)!.Value;
        var bytes = File.ReadAllBytes(file.FullPath);
        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (isUnchanged(hash))
        {
            return new LoadedSource(file, kind, hash, bytes.Length, null, null);
        }

        if (bytes.AsSpan(0, Math.Min(bytes.Length, 8192)).Contains((byte)0))
        {
            return new LoadedSource(file, kind, hash, bytes.Length, null, "binary content (NUL bytes)");
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return new LoadedSource(file, kind, hash, bytes.Length, null, "invalid UTF-8");
        }

        return Converted(file, kind, hash, bytes.Length, text);
    }

    /// <summary>
    /// Loads a document given as text (for example a benchmark corpus record) the way <see cref="Load"/> loads a file:
    /// hashed as UTF-8, then normalised and converted. Returns no content when <paramref name="isUnchanged"/> says the hash is stored.
    /// </summary>
    public static LoadedSource FromText(SourceFile file, SourceKind kind, string text, Func<string, bool> isUnchanged)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        return isUnchanged(hash)
            ? new LoadedSource(file, kind, hash, bytes.Length, null, null)
            : Converted(file, kind, hash, bytes.Length, text);
    }

    private static LoadedSource Converted(SourceFile file, SourceKind kind, string hash, long bytes, string text)
    {
        text = Normalize(text);
        if (kind == SourceKind.Html)
        {
            text = HtmlToText.Convert(text);
        }

        return string.IsNullOrWhiteSpace(text)
            ? new LoadedSource(file, kind, hash, bytes, null, "no text")
            : new LoadedSource(file, kind, hash, bytes, text, null);
    }

    /// <summary>Drops a byte-order mark and turns CRLF and CR line ends into LF.</summary>
    public static string Normalize(string text)
    {
        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            text = text[1..];
        }

        return text.Contains('\r') ? text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n') : text;
    }
}
