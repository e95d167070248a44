using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using ContextCompiler.Client;
using Microsoft.Extensions.VectorData;
using Microsoft.SemanticKernel.Data;

// Semantic Kernel 1.82 marks the non-generic ITextSearch, TextSearchOptions and FilterClause obsolete in favour of
// ITextSearch<TRecord>, yet its own plumbing (CreateWithSearch, CreateWithGetTextSearchResults, TextSearchProvider)
// still takes only the non-generic interface. Both are implemented; the warning is silenced in this file only.
#pragma warning disable CS0618

namespace ContextCompiler.SemanticKernel;

/// <summary>
/// Semantic Kernel's text search over the ContextCompiler service: a search compiles the query into a working set and
/// yields one result per citation, in citation order. Each result's name is <c>path:Lstart-Lend</c>, its value the cited
/// lines and its link <c>corpus/path#Lstart-Lend</c>. It implements <see cref="ITextSearch"/>, which SK's plumbing takes
/// (<c>CreateWithGetTextSearchResults</c>, <c>CreateWithSearch</c>, <see cref="TextSearchProvider"/>), and
/// <see cref="ITextSearch{TRecord}"/> of <see cref="CitedSpan"/> for LINQ filters.
/// </summary>
/// <remarks>
/// <para><c>Top</c> and <c>Skip</c> page through the citations of one working set of <see cref="ContextCompilerTextSearchOptions.Budget"/> tokens.</para>
/// <para>
/// <see cref="ITextSearch"/> filters: string equality on <c>corpus</c> and <c>pathPrefix</c>, sent to the service; any
/// other clause throws <see cref="NotSupportedException"/> rather than being ignored, since ignoring it would return
/// results the caller excluded. A LINQ filter of <see cref="ITextSearch{TRecord}"/> is applied to the compiled spans
/// before paging, so it narrows the working set rather than widening retrieval.
/// </para>
/// </remarks>
public sealed class ContextCompilerTextSearch : ITextSearch, ITextSearch<CitedSpan>
{
    /// <summary>The filter field naming a corpus.</summary>
    public const string CorpusField = "corpus";

    /// <summary>The filter field naming a path prefix.</summary>
    public const string PathPrefixField = "pathPrefix";

    private readonly IContextCompilerClient _client;
    private readonly ContextCompilerTextSearchOptions _options;

    /// <summary>A search over <paramref name="client"/>, compiling with <paramref name="options"/> (defaults when null).</summary>
    public ContextCompilerTextSearch(IContextCompilerClient client, ContextCompilerTextSearchOptions? options = null)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _options = options ?? new ContextCompilerTextSearchOptions();
        if (_options.Budget <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.Budget, "ContextCompilerTextSearchOptions.Budget must be at least 1 token.");
        }
    }

    /// <inheritdoc />
    public async Task<KernelSearchResults<string>> SearchAsync(string query, TextSearchOptions? searchOptions = null, CancellationToken cancellationToken = default)
    {
        var page = await SearchPageAsync(query, searchOptions, cancellationToken).ConfigureAwait(false);
        return new KernelSearchResults<string>(Yield(page.Spans.Select(s => s.Text)), page.Total);
    }

    /// <inheritdoc />
    public async Task<KernelSearchResults<TextSearchResult>> GetTextSearchResultsAsync(string query, TextSearchOptions? searchOptions = null, CancellationToken cancellationToken = default)
    {
        var page = await SearchPageAsync(query, searchOptions, cancellationToken).ConfigureAwait(false);
        return new KernelSearchResults<TextSearchResult>(Yield(page.Spans.Select(ToResult)), page.Total);
    }

    /// <inheritdoc />
    /// <remarks>Each result is a <see cref="CitedSpan"/>: the citation (corpus, path, lines, score, tokens) with its text.</remarks>
    public async Task<KernelSearchResults<object>> GetSearchResultsAsync(string query, TextSearchOptions? searchOptions = null, CancellationToken cancellationToken = default)
    {
        var page = await SearchPageAsync(query, searchOptions, cancellationToken).ConfigureAwait(false);
        return new KernelSearchResults<object>(Yield<object>(page.Spans), page.Total);
    }

    /// <inheritdoc />
    public async Task<KernelSearchResults<string>> SearchAsync(string query, TextSearchOptions<CitedSpan>? searchOptions = null, CancellationToken cancellationToken = default)
    {
        var page = await SearchPageAsync(query, searchOptions, cancellationToken).ConfigureAwait(false);
        return new KernelSearchResults<string>(Yield(page.Spans.Select(s => s.Text)), page.Total);
    }

    /// <inheritdoc />
    public async Task<KernelSearchResults<TextSearchResult>> GetTextSearchResultsAsync(string query, TextSearchOptions<CitedSpan>? searchOptions = null, CancellationToken cancellationToken = default)
    {
        var page = await SearchPageAsync(query, searchOptions, cancellationToken).ConfigureAwait(false);
        return new KernelSearchResults<TextSearchResult>(Yield(page.Spans.Select(ToResult)), page.Total);
    }

    /// <inheritdoc />
    public async Task<KernelSearchResults<CitedSpan>> GetSearchResultsAsync(string query, TextSearchOptions<CitedSpan>? searchOptions = null, CancellationToken cancellationToken = default)
    {
        var page = await SearchPageAsync(query, searchOptions, cancellationToken).ConfigureAwait(false);
        return new KernelSearchResults<CitedSpan>(Yield(page.Spans), page.Total);
    }

    private static TextSearchResult ToResult(CitedSpan span) => new(span.Text) { Name = span.Name, Link = span.Link };

    private Task<Page> SearchPageAsync(string query, TextSearchOptions? searchOptions, CancellationToken cancellationToken)
    {
        searchOptions ??= new TextSearchOptions();
        string? corpus = _options.Corpus, pathPrefix = _options.PathPrefix;
        foreach (var clause in searchOptions.Filter?.FilterClauses ?? [])
        {
            switch (clause)
            {
                case EqualToFilterClause { FieldName: CorpusField, Value: string value }: corpus = value; break;
                case EqualToFilterClause { FieldName: PathPrefixField, Value: string value }: pathPrefix = value; break;
                default:
                    throw new NotSupportedException(
                        $"ContextCompilerTextSearch filters only by string equality on '{CorpusField}' and '{PathPrefixField}'; got {Describe(clause)}.");
            }
        }

        return CompilePageAsync(query, corpus, pathPrefix, filter: null, searchOptions.Top, searchOptions.Skip, searchOptions.IncludeTotalCount, cancellationToken);
    }

    private Task<Page> SearchPageAsync(string query, TextSearchOptions<CitedSpan>? searchOptions, CancellationToken cancellationToken)
    {
        searchOptions ??= new TextSearchOptions<CitedSpan>();
        return CompilePageAsync(
            query, _options.Corpus, _options.PathPrefix, searchOptions.Filter, searchOptions.Top, searchOptions.Skip, searchOptions.IncludeTotalCount, cancellationToken);
    }

    private async Task<Page> CompilePageAsync(
        string query, string? corpus, string? pathPrefix, Expression<Func<CitedSpan, bool>>? filter, int top, int skip, bool includeTotal,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        ArgumentOutOfRangeException.ThrowIfNegative(top, "searchOptions.Top");
        ArgumentOutOfRangeException.ThrowIfNegative(skip, "searchOptions.Skip");

        var workingSet = await _client.CompileAsync(
            new CompileRequest(query, _options.Budget, corpus, pathPrefix, Tokenizer: _options.Tokenizer), cancellationToken).ConfigureAwait(false);
        IReadOnlyList<CitedSpan> spans = CitedSpan.Split(workingSet);
        if (filter is not null)
        {
            spans = spans.Where(filter.Compile()).ToList();
        }

        return new Page(spans.Skip(skip).Take(top).ToList(), includeTotal ? spans.Count : null);
    }

    private static string Describe(FilterClause clause) => clause is EqualToFilterClause equal
        ? $"{equal.FieldName} == {equal.Value ?? "null"} ({equal.Value?.GetType().Name ?? "null"})"
        : clause.GetType().Name;

    private static async IAsyncEnumerable<T> Yield<T>(IEnumerable<T> items, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var item in items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return item;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    private sealed record Page(IReadOnlyList<CitedSpan> Spans, long? Total);
}
