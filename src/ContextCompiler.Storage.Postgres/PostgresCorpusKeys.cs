using ContextCompiler.Core.Retrieve;

namespace ContextCompiler.Storage.Postgres;

/// <summary>
/// Corpus keys, as citations, filters and <see cref="Engine.Index.ISpanIndex"/> name corpora, to and from the rows' (tenant,
/// name): <c>tenant/name</c> for a tenant's corpus, the bare name for the operator's (tenant <c>''</c> in the rows).
/// </summary>
public static class PostgresCorpusKeys
{
    /// <summary>The tenant the operator's corpora belong to in the rows: <c>''</c>, since a primary key cannot hold NULL.</summary>
    public const string OperatorTenant = "";

    /// <summary>The key of <paramref name="tenant"/>'s corpus <paramref name="name"/>.</summary>
    public static string KeyOf(string tenant, string name) => tenant.Length == 0 ? name : tenant + "/" + name;

    /// <summary>The (tenant, name) of <paramref name="key"/>.</summary>
    public static CorpusRef Parse(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        // The last '/': a corpus name never holds one (CorpusNames.Validate), a tenant id might.
        int slash = key.LastIndexOf('/');
        return slash < 0 ? new CorpusRef(OperatorTenant, key) : new CorpusRef(key[..slash], key[(slash + 1)..]);
    }

    /// <summary>
    /// The corpora <paramref name="filter"/> lets through, as rows: its single corpus (if the readable set has it), else
    /// its readable set; null when it restricts nothing.
    /// </summary>
    public static IReadOnlyList<CorpusRef>? Refs(RetrievalFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        IEnumerable<string>? keys = filter.Corpora;
        if (filter.Corpus is not null)
        {
            keys = keys is null || keys.Contains(filter.Corpus) ? [filter.Corpus] : [];
        }

        return keys?.Select(Parse).ToList();
    }
}
