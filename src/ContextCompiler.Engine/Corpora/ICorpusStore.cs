namespace ContextCompiler.Engine.Corpora;

/// <summary>
/// Corpora and who may read them: the seam between the corpus rules the endpoints, turns and compiles rely on and a
/// store. A tenant reads its own corpora and the shared ones and writes only its own; another tenant's corpus is not
/// found, never forbidden. Limits must hold when several processes create corpora at once.
/// </summary>
public interface ICorpusStore
{
    /// <summary>The limits on what tenants store.</summary>
    CorpusLimits Limits { get; }

    /// <summary>Creates the tenant's corpus <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">A name outside the rules.</exception>
    /// <exception cref="CorpusConflictException">The tenant has a corpus of that name, or can read a shared one of that name.</exception>
    /// <exception cref="QuotaExceededException">The tenant owns the most corpora allowed.</exception>
    CorpusInfo Create(string tenant, string name);

    /// <summary>The corpora <paramref name="tenant"/> can read, its own first, then the shared ones, each by name.</summary>
    IReadOnlyList<CorpusInfo> List(string tenant);

    /// <summary>Every corpus of every owner, by key: the operator's view.</summary>
    IReadOnlyList<CorpusEntry> All();

    /// <summary>Deletes the tenant's corpus with all its documents, from every index.</summary>
    /// <exception cref="CorpusNotFoundException">The tenant owns no corpus of that name.</exception>
    void Delete(string tenant, string name);

    /// <summary>The key of the corpus named <paramref name="name"/> that <paramref name="tenant"/> may read: its own, else a shared one.</summary>
    /// <exception cref="CorpusNotFoundException">No such corpus readable by the tenant.</exception>
    string ReadableKey(string tenant, string name);

    /// <summary>The key of the tenant's own corpus <paramref name="name"/>, which it may write.</summary>
    /// <exception cref="CorpusNotFoundException">The tenant owns no corpus of that name (a shared one is read-only).</exception>
    string OwnedKey(string tenant, string name);

    /// <summary>Every corpus key <paramref name="tenant"/> may read: the retrieval filter of its compiles and turns.</summary>
    IReadOnlySet<string> Readable(string tenant);

    /// <summary>Shares a corpus (by key) read-only with every tenant, or stops sharing it. An operator's action.</summary>
    /// <exception cref="CorpusNotFoundException">No corpus has that key.</exception>
    void SetShared(string key, bool shared);
}

/// <summary>The corpus rules every store answers the same way, built on <see cref="ICorpusStore"/>.</summary>
public static class CorpusStoreExtensions
{
    /// <summary>The retrieval filter of <paramref name="tenant"/>'s compiles, turns and recompiles: only the corpora it may read.</summary>
    public static Core.Retrieve.RetrievalFilter ReadableFilter(this ICorpusStore corpora, string tenant) => new(Corpora: corpora.Readable(tenant));
}

/// <summary>
/// A tenant's documents, one at a time: the seam between the document endpoints and a store. A write is in lexical
/// retrieval when it returns (read your writes); its vectors follow. Quotas must hold under concurrent writers.
/// </summary>
public interface IDocumentStore
{
    /// <summary>Stores <paramref name="text"/> at <paramref name="path"/> of the tenant's corpus, replacing what was there.</summary>
    /// <param name="mediaType">What the text is (text/markdown, text/plain, text/html, or a source-code type); the path's extension decides when null.</param>
    /// <exception cref="ArgumentException">A bad path, an unknown media type, or text with no content.</exception>
    /// <exception cref="CorpusNotFoundException">The tenant owns no such corpus.</exception>
    /// <exception cref="DocumentTooLargeException">Over the per-document limit.</exception>
    /// <exception cref="QuotaExceededException">Over the tenant's documents or bytes.</exception>
    DocumentWrite Put(string tenant, string corpus, string path, string text, string? mediaType);

    /// <summary>The document with the text it was stored with (for documents ingested from files, the converted text).</summary>
    /// <exception cref="CorpusNotFoundException">The tenant can read no such corpus.</exception>
    /// <exception cref="DocumentNotFoundException">No document at that path.</exception>
    StoredDocument Get(string tenant, string corpus, string path);

    /// <summary>Removes the document from every index.</summary>
    /// <exception cref="CorpusNotFoundException">The tenant owns no such corpus.</exception>
    /// <exception cref="DocumentNotFoundException">No document at that path.</exception>
    void Delete(string tenant, string corpus, string path);

    /// <summary>The corpus's documents in path order, from after <paramref name="cursor"/>, whose paths start with <paramref name="prefix"/>.</summary>
    /// <exception cref="ArgumentException">A limit outside 1..1000.</exception>
    /// <exception cref="CorpusNotFoundException">The tenant can read no such corpus.</exception>
    DocumentPage List(string tenant, string corpus, string? prefix, int? limit, string? cursor);

    /// <summary>The documents of the corpus with key <paramref name="key"/>, whoever owns it: the operator's view.</summary>
    /// <exception cref="ArgumentException">A limit outside 1..1000.</exception>
    /// <exception cref="CorpusNotFoundException">No corpus has that key.</exception>
    DocumentPage ListByKey(string key, string? prefix, int? limit, string? cursor);

    /// <summary>When each document (by corpus key and path) was last written, or null when it is gone.</summary>
    IReadOnlyDictionary<(string Corpus, string Path), DateTimeOffset?> LastWritten(IEnumerable<(string Corpus, string Path)> documents);
}
