using ContextCompiler.Core.Errors;

namespace ContextCompiler.Engine.Corpora;

/// <summary>A corpus a tenant can read.</summary>
/// <param name="Name">The name its owner gave it.</param>
/// <param name="Key">The corpus as citations name it: the name for an operator's corpus, <c>tenant/name</c> for a tenant's.</param>
/// <param name="Owned">True when the caller owns it (and may write to it).</param>
/// <param name="Shared">True when every tenant may read it.</param>
public sealed record CorpusInfo(string Name, string Key, bool Owned, bool Shared, DateTimeOffset CreatedAt, int Documents, long Bytes);

/// <summary>A corpus as the operator sees it, with its owner.</summary>
/// <param name="Key">The corpus as citations name it.</param>
/// <param name="Tenant">Its owner; null for an operator's corpus.</param>
public sealed record CorpusEntry(string Key, string Name, string? Tenant, bool Shared, DateTimeOffset CreatedAt, int Documents, long Bytes);

/// <summary>Whether a document's vectors are all there: <c>indexing</c> while some spans still wait for theirs, then <c>ready</c>.</summary>
public static class DocumentStatus
{
    public const string Indexing = "indexing";
    public const string Ready = "ready";
}

/// <summary>One document of a corpus, without its text.</summary>
/// <param name="Path">Its path inside the corpus.</param>
/// <param name="Bytes">UTF-8 bytes of the text it was sent as.</param>
/// <param name="ContentHash">SHA-256 of those bytes, hex.</param>
/// <param name="Status">See <see cref="DocumentStatus"/>.</param>
public sealed record DocumentInfo(
    string Corpus, string Path, string? MediaType, long Bytes, int Spans, long Tokens, string ContentHash, string Status, DateTimeOffset UpdatedAt);

/// <summary>A document with the text it was stored with.</summary>
public sealed record StoredDocument(DocumentInfo Document, string Text);

/// <summary>The result of a PUT.</summary>
/// <param name="Created">True when the path was new.</param>
/// <param name="Changed">False when the same content was stored already: nothing was written.</param>
public sealed record DocumentWrite(DocumentInfo Document, bool Created, bool Changed);

/// <summary>A page of documents; <see cref="NextCursor"/> continues after the last one (null at the end).</summary>
public sealed record DocumentPage(IReadOnlyList<DocumentInfo> Items, string? NextCursor);

/// <summary>What a tenant's documents may take.</summary>
public sealed record CorpusLimits
{
    /// <summary>Largest document, in UTF-8 bytes (default 5 MB).</summary>
    public long MaxDocumentBytes { get; init; } = 5 * 1024 * 1024;

    /// <summary>Documents one tenant may store across its corpora (default 10 000).</summary>
    public int MaxDocumentsPerTenant { get; init; } = 10_000;

    /// <summary>Bytes one tenant may store across its corpora (default 500 MB).</summary>
    public long MaxBytesPerTenant { get; init; } = 500L * 1024 * 1024;

    /// <summary>Corpora one tenant may own (default 100).</summary>
    public int MaxCorporaPerTenant { get; init; } = 100;
}

/// <summary>No corpus of that name that the tenant may read (or, for writes, owns). HTTP 404.</summary>
public sealed class CorpusNotFoundException(string name) : NotFoundError($"Corpus '{name}' was not found.");

/// <summary>No document at that path in the corpus. HTTP 404.</summary>
public sealed class DocumentNotFoundException(string corpus, string path) : NotFoundError($"Document '{path}' was not found in corpus '{corpus}'.");

/// <summary>The corpus exists already, or a shared corpus cannot be written over HTTP. HTTP 409.</summary>
public sealed class CorpusConflictException(string message) : ConflictError(message);

/// <summary>A tenant's quota (documents, bytes, corpora) would be exceeded; nothing was written. HTTP 409 "Quota exceeded".</summary>
public sealed class QuotaExceededException(string message) : CapacityExceededError(message);

/// <summary>A document larger than <see cref="CorpusLimits.MaxDocumentBytes"/>. HTTP 413.</summary>
public sealed class DocumentTooLargeException(string message) : TooLargeError(message);
