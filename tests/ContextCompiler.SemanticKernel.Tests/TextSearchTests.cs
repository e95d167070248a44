using ContextCompiler.Client;
using ContextCompiler.Server.Tests;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.Data;

// The non-generic ITextSearch is obsolete in SK 1.82, but it is what SK's own plumbing under test takes.
#pragma warning disable CS0618

namespace ContextCompiler.SemanticKernel.Tests;

public sealed class TextSearchTests(SharedServer server) : IClassFixture<SharedServer>
{
    private const string Query = "How does the write-ahead log work with checkpoints?";
    private const int Budget = 900;

    private (ContextCompilerTextSearch Search, IContextCompilerClient Client) Search()
    {
        var client = server.Client();
        return (new ContextCompilerTextSearch(client, new ContextCompilerTextSearchOptions { Budget = Budget }), client);
    }

    [Fact]
    public async Task Each_citation_becomes_one_result_named_by_path_and_lines_with_its_span_text()
    {
        var (search, client) = Search();
        var expected = await client.CompileAsync(new CompileRequest(Query, Budget));
        Assert.True(expected.Citations.Count >= 3, "the test needs a few citations to page through");

        var results = await ToListAsync((await search.GetTextSearchResultsAsync(Query, new TextSearchOptions { Top = 100 })).Results);

        Assert.Equal(expected.Citations.Count, results.Count);
        Assert.Equal(expected.Citations.Select(c => $"{c.Path}:L{c.StartLine}-L{c.EndLine}"), results.Select(r => r.Name));
        Assert.Equal(expected.Citations.Select(c => $"{c.Corpus}/{c.Path}#L{c.StartLine}-L{c.EndLine}"), results.Select(r => r.Link));
        // Headers and values put back together are the working set, so each value is exactly its block's lines.
        var rebuilt = string.Join("\n\n", expected.Citations.Zip(results, (c, r) => $"[{c.N}] {c.Corpus}/{c.Path}:L{c.StartLine}-L{c.EndLine}\n{r.Value}"));
        Assert.Equal(expected.Text, rebuilt);
    }

    [Fact]
    public async Task Skip_and_top_page_through_the_citations_and_the_total_counts_them_all()
    {
        var (search, client) = Search();
        var expected = await client.CompileAsync(new CompileRequest(Query, Budget));

        var page = await search.GetTextSearchResultsAsync(Query, new TextSearchOptions { Skip = 1, Top = 2, IncludeTotalCount = true });
        var results = await ToListAsync(page.Results);

        Assert.Equal(expected.Citations.Skip(1).Take(2).Select(c => $"{c.Path}:L{c.StartLine}-L{c.EndLine}"), results.Select(r => r.Name));
        Assert.Equal(expected.Citations.Count, page.TotalCount);
        var strings = await ToListAsync((await search.SearchAsync(Query, new TextSearchOptions { Skip = 1, Top = 2 })).Results);
        Assert.Equal(results.Select(r => r.Value), strings);
        var objects = await ToListAsync((await search.GetSearchResultsAsync(Query, new TextSearchOptions { Skip = 1, Top = 2 })).Results);
        Assert.Equal(expected.Citations.Skip(1).Take(2), objects.Cast<CitedSpan>().Select(s => s.Citation));
    }

    [Fact]
    public async Task A_path_prefix_filter_is_sent_to_the_service_and_an_unknown_field_is_refused()
    {
        var (search, _) = Search();

        var results = await ToListAsync((await search.GetTextSearchResultsAsync(
            Query, new TextSearchOptions { Top = 100, Filter = new TextSearchFilter().Equality("pathPrefix", "pragma") })).Results);

        Assert.NotEmpty(results);
        Assert.All(results, r => Assert.StartsWith("pragma.md:L", r.Name));
        await Assert.ThrowsAsync<NotSupportedException>(() =>
            search.GetTextSearchResultsAsync(Query, new TextSearchOptions { Filter = new TextSearchFilter().Equality("author", "x") }));
    }

    [Fact]
    public async Task The_generic_search_applies_a_linq_filter_to_the_compiled_spans()
    {
        var (search, client) = Search();
        var expected = await client.CompileAsync(new CompileRequest(Query, Budget));
        var even = expected.Citations.Where(c => c.N % 2 == 0).ToList();
        Assert.NotEmpty(even);

        var results = await ToListAsync((await ((ITextSearch<CitedSpan>)search).GetSearchResultsAsync(
            Query, new TextSearchOptions<CitedSpan> { Top = 100, Filter = s => s.Citation.N % 2 == 0 })).Results);

        Assert.Equal(even, results.Select(s => s.Citation));
    }

    [Fact]
    public async Task SK_s_search_plugin_returns_the_spans_to_a_kernel()
    {
        var (search, client) = Search();
        var kernel = Kernel.CreateBuilder().Build();
        kernel.Plugins.Add(search.CreateWithGetTextSearchResults("SearchPlugin"));
        kernel.Plugins.Add(search.CreateWithSearch("PlainSearch"));
        var expected = CitedSpan.Split(await client.CompileAsync(new CompileRequest(Query, Budget)));

        var detailed = (await kernel.InvokeAsync("SearchPlugin", "GetTextSearchResults", new KernelArguments { ["query"] = Query }))
            .GetValue<IEnumerable<TextSearchResult>>()!.ToList();
        var plain = (await kernel.InvokeAsync("PlainSearch", "Search", new KernelArguments { ["query"] = Query, ["count"] = 2 }))
            .GetValue<IEnumerable<string>>()!.ToList();

        Assert.Equal(expected.Take(detailed.Count).Select(s => ((string?)s.Name, (string?)s.Link, s.Text)), detailed.Select(r => (r.Name, r.Link, r.Value)));
        Assert.NotEmpty(detailed);
        Assert.Equal(expected.Take(2).Select(s => s.Text), plain);
    }

    [Fact]
    public async Task SK_s_text_search_provider_puts_the_spans_into_an_agent_s_context()
    {
        var (search, client) = Search();
        var provider = new TextSearchProvider(search, options: new TextSearchProviderOptions { Top = 2 });
        var expected = CitedSpan.Split(await client.CompileAsync(new CompileRequest(Query, Budget)));

        var context = await provider.ModelInvokingAsync([new ChatMessage(ChatRole.User, Query)]);

        Assert.NotNull(context.Instructions);
        Assert.Contains(expected[0].Text, context.Instructions);
        Assert.Contains(expected[0].Name, context.Instructions);
        Assert.Contains(expected[1].Link, context.Instructions);
        Assert.DoesNotContain(expected[2].Name, context.Instructions);
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }
}
