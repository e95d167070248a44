namespace ContextCompiler.Client;

/// <summary>A corpus the tenant can read, as <c>GET /v1/corpora</c> lists it.</summary>
/// <param name="Name">The name its owner gave it; what the routes and <see cref="CompileRequest.Corpus"/> take.</param>
/// <param name="Key">The corpus as citations name it: the name for an operator's corpus, <c>tenant/name</c> for a tenant's.</param>
/// <param name="Owned">True when the tenant owns it and may write to it.</param>
/// <param name="Shared">True when every tenant may read it (read-only for all but its owner).</param>
/// <param name="Bytes">UTF-8 bytes of its documents.</param>
public sealed record CorpusInfo(string Name, string Key, bool Owned, bool Shared, DateTimeOffset CreatedAt, int Documents, long Bytes);

/// <summary>The reply of <c>GET /v1/corpora</c>: the tenant's own corpora first, then the shared ones.</summary>
public sealed record CorpusList(IReadOnlyList<CorpusInfo> Items);

/// <summary>What <see cref="DocumentInfo.Status"/> holds.</summary>
public static class DocumentStatuses
{
    /// <summary>Lexical retrieval has the document; some of its spans still wait for their vectors.</summary>
    public const string Indexing = "indexing";

    /// <summary>Every span has its vector.</summary>
    public const string Ready = "ready";
}

/// <summary>One document of a corpus, without its text.</summary>
/// <param name="Corpus">The corpus's name (not its key).</param>
/// <param name="Path">Its path inside the corpus.</param>
/// <param name="MediaType">The media type it was stored with; null when its path's extension decided.</param>
/// <param name="Bytes">UTF-8 bytes of the text it was sent as.</param>
/// <param name="ContentHash">SHA-256 of those bytes, lower-case hex.</param>
/// <param name="Status"><see cref="DocumentStatuses.Indexing"/> or <see cref="DocumentStatuses.Ready"/>.</param>
public sealed record DocumentInfo(
    string Corpus, string Path, string? MediaType, long Bytes, int Spans, long Tokens, string ContentHash, string Status, DateTimeOffset UpdatedAt);

/// <summary>The reply of <c>GET /v1/corpora/{corpus}/documents/{path}</c>.</summary>
/// <param name="Text">Exactly the text it was stored with.</param>
public sealed record StoredDocument(DocumentInfo Document, string Text);

/// <summary>The reply of a document PUT.</summary>
/// <param name="Created">True when the path was new (HTTP 201).</param>
/// <param name="Changed">False when the same content was stored already and nothing was written.</param>
public sealed record DocumentWrite(DocumentInfo Document, bool Created, bool Changed);

/// <summary>A page of documents in path order.</summary>
/// <param name="NextCursor">Pass it as the next call's cursor to continue; null at the end.</param>
public sealed record DocumentPage(IReadOnlyList<DocumentInfo> Items, string? NextCursor);

/// <summary>The outcome of an upload of a folder.</summary>
/// <param name="Written">One entry per file, in path order.</param>
public sealed record FolderUpload(IReadOnlyList<DocumentWrite> Written)
{
    /// <summary>Files that were new to the corpus.</summary>
    public int Created => Written.Count(w => w.Created);

    /// <summary>Files that replaced a different stored text.</summary>
    public int Replaced => Written.Count(w => w.Changed && !w.Created);

    /// <summary>Files whose stored text was the same already.</summary>
    public int Unchanged => Written.Count(w => !w.Changed);
}
