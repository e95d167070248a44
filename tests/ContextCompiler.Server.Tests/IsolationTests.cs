using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Server.Tests;

/// <summary>
/// One tenant's documents, made of words no other text has: <see cref="Secrets"/> are what another tenant must never
/// receive (its words, its paths, its corpus keys and the name of the corpus only it has).
/// </summary>
/// <param name="SameWord">In the heading and every paragraph of its document in the same-named corpus.</param>
/// <param name="OnlyWord">In the heading and body of its document in the corpus only it has.</param>
/// <param name="BodyWord">In every paragraph of both documents, and never in a query: if any span of its text reaches another tenant, this word does.</param>
public sealed record TenantWorld(
    string Tenant, HttpClient Client, string ApiKey, string Only, string SameWord, string OnlyWord, string BodyWord, string PathWord, string SamePath, string OnlyPath)
{
    public string SameKey(string same) => $"{Tenant}/{same}";

    public IReadOnlyList<string> Secrets(string same) => [SameWord, OnlyWord, BodyWord, PathWord, SamePath, OnlyPath, Only, $"{Tenant}/{same}", $"{Tenant}/{Only}"];
}

/// <summary>
/// A server where alpha and beta each have a corpus of the same name and one only they have, each with documents of
/// their own made-up words, plus a word both tenants' documents share. Built once, with every vector written, so that
/// vector retrieval would find the other tenant's spans if anything let them through.
/// </summary>
public sealed class IsolationWorld : IAsyncLifetime
{
    public ServerFactory Factory { get; } = new();

    /// <summary>The corpus name both tenants use.</summary>
    public string Same { get; } = "iso-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>A word in every tenant document, so that a query with it matches both tenants' text.</summary>
    public string Common { get; } = Word("commo");

    public TenantWorld Alpha { get; private set; } = null!;

    public TenantWorld Beta { get; private set; } = null!;

    public TenantWorld Of(string tenant) => tenant == "alpha" ? Alpha : Beta;

    /// <summary>A lower-case word of letters only (j to y), unlike any real one.</summary>
    public static string Word(string prefix) =>
        prefix + new string(Guid.NewGuid().ToString("N")[..12].Select(c => (char)('j' + Convert.ToInt32(c.ToString(), 16))).ToArray());

    public async Task InitializeAsync()
    {
        Alpha = await Seed("alpha", ServerFactory.AlphaKey);
        Beta = await Seed("beta", ServerFactory.BetaKey);
        // Wait until every span has its vector, so that the vector retriever sees the documents too.
        using var client = Factory.Client(null);
        for (int i = 0; i < 1200; i++)
        {
            using var health = JsonDocument.Parse(await client.GetStringAsync("/health"));
            if (health.RootElement.GetProperty("vectors").GetProperty("complete").GetBoolean())
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The uploaded documents' vectors were not written within 2 minutes.");
    }

    private async Task<TenantWorld> Seed(string tenant, string key)
    {
        var client = Factory.Client(key);
        string only = "only-" + Word("");
        string sameWord = Word("zorb"), onlyWord = Word("quax"), bodyWord = Word("blim"), pathWord = Word("dir");
        var world = new TenantWorld(tenant, client, key, only, sameWord, onlyWord, bodyWord, pathWord, $"notes/{pathWord}/plan.md", $"secret/{pathWord}.md");
        foreach (var name in new[] { Same, only })
        {
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/v1/corpora", new { name })).StatusCode);
        }

        string sameText = $"# Plan {sameWord}\n\nThe {sameWord} ledger of {Common} keeps the {bodyWord} entries of the quarterly {Common} review.\n\n"
            + $"## Details of {sameWord}\n\nEvery {sameWord} record is {bodyWord} checked twice; {Common} records once.\n";
        string onlyText = $"# {onlyWord}\n\nThe {onlyWord} vault holds {Common} keys; {bodyWord} is never printed.\n";
        Assert.Equal(HttpStatusCode.Created, (await CorporaApiTests.Put(client, Same, world.SamePath, sameText, "text/markdown")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await CorporaApiTests.Put(client, only, world.OnlyPath, onlyText, "text/markdown")).StatusCode);
        return world;
    }

    public Task DisposeAsync()
    {
        Factory.Dispose();
        Factory.DeleteFolder();
        return Task.CompletedTask;
    }
}

/// <summary>
/// Issue 11, item 4: isolation is tested, not assumed. For both directions, every read path — compile (every retrieval
/// option), turns, history, replay, recompile, MCP tools, the corpora endpoints and their errors — is searched, byte for
/// byte, for the other tenant's words, paths and corpus keys.
/// </summary>
public sealed class IsolationTests(IsolationWorld world) : IClassFixture<IsolationWorld>
{
    // Option sets that change how retrieval runs: each lexical retriever, each fusion, vectors only and lexical only,
    // relevance feedback (a second lexical pass), MMR (reads candidates' vectors), no threshold, the baseline packers.
    private static readonly Dictionary<string, object>[] RetrievalOptions =
    [
        new(),
        new() { ["lexical"] = "fts5" },
        new() { ["lexical"] = "bm25", ["prfDocs"] = 5, ["prfTerms"] = 20, ["prfWeight"] = 1 },
        new() { ["lexical"] = "fts5", ["fusion"] = "rrf" },
        new() { ["fusion"] = "zscore" },
        new() { ["fusion"] = "linear", ["vectorWeight"] = 0 },
        new() { ["vectorWeight"] = 1 },
        new() { ["vectorWeight"] = 1, ["candidates"] = 500, ["minRelativeScore"] = 0 },
        new() { ["lexical"] = "fts5", ["candidates"] = 500, ["minRelativeScore"] = 0, ["mmrLambda"] = 0.5 },
        new() { ["packing"] = "greedy-stop", ["minRelativeScore"] = 0 },
        new() { ["packing"] = "topk-truncate", ["topK"] = 50, ["minRelativeScore"] = 0 },
        new() { ["titleWeight"] = 10, ["headingWeight"] = 10, ["bodyWeight"] = 0.1, ["k1"] = 2, ["b"] = 1 },
    ];

    private (TenantWorld Reader, TenantWorld Owner) Pair(string reader) => reader == "alpha" ? (world.Alpha, world.Beta) : (world.Beta, world.Alpha);

    // A query with the word both tenants' documents have and the reader's own word, so that both would match if both were
    // searched. Named, it also holds the owner's own words: those come back as the reader's query (echoed in the working
    // set, explain and history), so the check leaves those two words out and relies on the owner's body word, paths and keys.
    private string Probe(TenantWorld reader, TenantWorld owner, bool named = false) =>
        (named ? $"{owner.SameWord} {owner.OnlyWord} " : "") + $"{world.Common} {reader.SameWord} plan secret vault ledger";

    private void AssertClean(string body, TenantWorld owner, string where, bool named = false)
    {
        foreach (var secret in owner.Secrets(world.Same).Where(s => !named || (s != owner.SameWord && s != owner.OnlyWord)))
        {
            Assert.False(body.Contains(secret, StringComparison.OrdinalIgnoreCase), $"{where}: the response carries '{secret}' of tenant {owner.Tenant}:\n{body}");
        }
    }

    private async Task<string> Body(HttpResponseMessage response, HttpStatusCode expected, string where)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{where}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return text;
    }

    [Theory]
    [InlineData("alpha", false)]
    [InlineData("beta", false)]
    [InlineData("alpha", true)]
    [InlineData("beta", true)]
    public async Task Compile_with_any_corpus_prefix_explain_or_retrieval_option_returns_none_of_the_other_tenants_text(string reader, bool named)
    {
        var (me, owner) = Pair(reader);
        string query = Probe(me, owner, named);
        foreach (var options in RetrievalOptions)
        {
            string label = JsonSerializer.Serialize(options);
            bool lexical = !(options.TryGetValue("vectorWeight", out var w) && (int)w == 1);
            foreach (var (corpus, prefix) in new (string?, string?)[] { (null, null), (world.Same, null), (null, owner.SamePath[..10]), (null, "secret/"), (world.Same, "notes/") })
            {
                foreach (bool explain in new[] { false, true })
                {
                    string where = $"compile as {reader} corpus={corpus} pathPrefix={prefix} explain={explain} options={label}";
                    var response = await me.Client.PostAsJsonAsync("/v1/compile", new { query, budget = 4000, corpus, pathPrefix = prefix, explain, options });
                    string body = await Body(response, HttpStatusCode.OK, where);
                    AssertClean(body, owner, where, named);
                    using var set = JsonDocument.Parse(body);
                    var cited = set.RootElement.GetProperty("citations").EnumerateArray().Select(c => c.GetProperty("corpus").GetString()).ToList();
                    if (corpus is not null)
                    {
                        Assert.All(cited, c => Assert.Equal(me.SameKey(world.Same), c));
                    }

                    // The reader's own document is found: retrieval did run over the same-named corpus, so the check above means something.
                    if (lexical && prefix is null or "notes/")
                    {
                        Assert.True(body.Contains(me.SamePath, StringComparison.Ordinal), $"{where}: the reader's own document is missing:\n{body}");
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData("alpha")]
    [InlineData("beta")]
    public async Task A_corpus_only_the_other_tenant_has_is_not_found_exactly_as_one_nobody_has(string reader)
    {
        var (me, owner) = Pair(reader);
        string nobody = "only-" + IsolationWorld.Word("");
        string theirs = await ProblemOf(await me.Client.PostAsJsonAsync("/v1/compile", new { query = Probe(me, owner), budget = 500, corpus = owner.Only }), 404, owner.Only);
        string none = await ProblemOf(await me.Client.PostAsJsonAsync("/v1/compile", new { query = Probe(me, owner), budget = 500, corpus = nobody }), 404, nobody);
        Assert.Equal(none, theirs);
        // With explain and options too: the corpus is refused before retrieval.
        string explained = await ProblemOf(await me.Client.PostAsJsonAsync("/v1/compile",
            new { query = Probe(me, owner), budget = 500, corpus = owner.Only, explain = true, options = new { lexical = "fts5" } }), 404, owner.Only);
        Assert.Equal(none, explained);
    }

    [Theory]
    [InlineData("alpha", false)]
    [InlineData("beta", false)]
    [InlineData("alpha", true)]
    [InlineData("beta", true)]
    public async Task Turns_history_replay_and_recompile_carry_none_of_the_other_tenants_text(string reader, bool named)
    {
        var (me, owner) = Pair(reader);
        string session = await me.Client.CreateSession();
        foreach (var explain in new[] { false, true })
        {
            string where = $"turn as {reader} explain={explain}";
            var response = await me.Client.PostAsJsonAsync($"/v1/sessions/{session}/turns", new { message = Probe(me, owner, named), contextBudget = 3000, historyBudget = 1000, explain });
            string body = await Body(response, HttpStatusCode.OK, where);
            AssertClean(body, owner, where, named);
            Assert.Contains(me.SamePath, body, StringComparison.Ordinal);
        }

        // A follow-up retrieves with the conversation as context too.
        string followUp = await Body(await me.Client.PostAsJsonAsync($"/v1/sessions/{session}/turns", new { message = "and what else?", contextBudget = 3000, explain = true }),
            HttpStatusCode.OK, "follow-up turn");
        AssertClean(followUp, owner, "follow-up turn", named);

        foreach (var path in new[] { $"/v1/sessions/{session}", $"/v1/sessions/{session}/history", $"/v1/sessions/{session}/history?maxTokens=20000", $"/v1/sessions/{session}/replay" })
        {
            AssertClean(await Body(await me.Client.GetAsync(path), HttpStatusCode.OK, path), owner, path, named);
        }

        foreach (var options in RetrievalOptions)
        {
            string where = "recompile with " + JsonSerializer.Serialize(options);
            var response = await me.Client.PostAsJsonAsync($"/v1/sessions/{session}/replay/recompile", new { options, budget = 4000 });
            AssertClean(await Body(response, HttpStatusCode.OK, where), owner, where, named);
        }
    }

    [Theory]
    [InlineData("alpha")]
    [InlineData("beta")]
    public async Task The_other_tenants_sessions_are_not_found_and_say_nothing(string reader)
    {
        var (me, owner) = Pair(reader);
        string theirs = await owner.Client.CreateSession();
        var turn = await owner.Client.Turn(theirs, $"{owner.SameWord} {owner.OnlyWord}", new { contextBudget = 2000 });
        Assert.Contains(owner.SamePath, turn.GetRawText(), StringComparison.Ordinal);

        string nobody = "s_" + Guid.NewGuid().ToString("N");
        foreach (var (method, path, body) in new (string, string, object?)[]
        {
            ("GET", "", null), ("GET", "/history", null), ("GET", "/replay", null), ("POST", "/replay/recompile", new { }),
            ("POST", "/turns", new { message = owner.SameWord }), ("POST", "/messages", new { role = "assistant", content = "x" }),
        })
        {
            async Task<string> Problem(string id)
            {
                var request = new HttpRequestMessage(new HttpMethod(method), $"/v1/sessions/{id}{path}");
                if (body is not null)
                {
                    request.Content = JsonContent.Create(body);
                }

                return await ProblemOf(await me.Client.SendAsync(request), 404, id);
            }

            string problem = await Problem(theirs);
            AssertClean(problem, owner, $"{method} {path}");
            Assert.Equal(await Problem(nobody), problem);
        }

        // Nothing was added to the owner's session.
        var replay = await (await owner.Client.GetAsync($"/v1/sessions/{theirs}/replay")).Json();
        Assert.Single(replay.GetProperty("turns").EnumerateArray());
    }

    [Theory]
    [InlineData("alpha", false)]
    [InlineData("beta", false)]
    [InlineData("alpha", true)]
    [InlineData("beta", true)]
    public async Task Mcp_compile_context_and_take_turn_carry_none_of_the_other_tenants_text(string reader, bool named)
    {
        var (me, owner) = Pair(reader);
        await using var client = await Connect(me.ApiKey);
        foreach (var (corpus, prefix) in new (string?, string?)[] { (null, null), (world.Same, null), (null, owner.SamePath[..10]), (world.Same, "notes/") })
        {
            string where = $"compile_context as {reader} corpus={corpus} pathPrefix={prefix}";
            var result = await client.CallToolAsync("compile_context", new Dictionary<string, object?>
            {
                ["query"] = Probe(me, owner, named), ["budget"] = 4000, ["corpus"] = corpus, ["pathPrefix"] = prefix,
            });
            Assert.True(result.IsError is not true, where + ": " + Text(result));
            string all = Json(result);
            AssertClean(all, owner, where, named);
            if (prefix is null or "notes/")
            {
                Assert.Contains(me.SamePath, all, StringComparison.Ordinal);
            }
        }

        // A corpus only the owner has is "Not found", in the same words as a corpus nobody has.
        string nobody = "only-" + IsolationWorld.Word("");
        var theirs = await client.CallToolAsync("compile_context", new Dictionary<string, object?> { ["query"] = Probe(me, owner, named), ["budget"] = 500, ["corpus"] = owner.Only });
        var none = await client.CallToolAsync("compile_context", new Dictionary<string, object?> { ["query"] = Probe(me, owner, named), ["budget"] = 500, ["corpus"] = nobody });
        Assert.True(theirs.IsError);
        Assert.StartsWith("Not found", Text(theirs), StringComparison.Ordinal);
        Assert.Equal(Text(none).Replace(nobody, "X", StringComparison.Ordinal), Text(theirs).Replace(owner.Only, "X", StringComparison.Ordinal));
        Assert.Null(theirs.StructuredContent);

        var turn = await client.CallToolAsync("take_turn", new Dictionary<string, object?> { ["message"] = Probe(me, owner, named), ["totalBudget"] = 4000 });
        Assert.True(turn.IsError is not true, Text(turn));
        string turnText = Json(turn);
        AssertClean(turnText, owner, "take_turn", named);
        Assert.Contains(me.SamePath, turnText, StringComparison.Ordinal);
        string session = turn.StructuredContent!.Value.GetProperty("sessionId").GetString()!;
        var again = await client.CallToolAsync("take_turn", new Dictionary<string, object?> { ["message"] = "and the rest?", ["sessionId"] = session, ["totalBudget"] = 4000 });
        AssertClean(Json(again), owner, "second take_turn", named);
        AssertClean(Json(await client.CallToolAsync("replay_session", new Dictionary<string, object?> { ["sessionId"] = session })), owner, "replay_session", named);

        // The owner's session through MCP: not found.
        string ownerSession = await owner.Client.CreateSession();
        await owner.Client.Turn(ownerSession, owner.SameWord, new { contextBudget = 1000 });
        var replay = await client.CallToolAsync("replay_session", new Dictionary<string, object?> { ["sessionId"] = ownerSession });
        Assert.True(replay.IsError);
        AssertClean(Json(replay), owner, "replay_session of the owner's session", named);
        var theirTurn = await client.CallToolAsync("take_turn", new Dictionary<string, object?> { ["message"] = "hello", ["sessionId"] = ownerSession });
        Assert.True(theirTurn.IsError);
        AssertClean(Json(theirTurn), owner, "take_turn in the owner's session", named);
    }

    [Theory]
    [InlineData("alpha")]
    [InlineData("beta")]
    public async Task The_corpora_endpoints_neither_show_nor_change_the_other_tenants_corpora(string reader)
    {
        var (me, owner) = Pair(reader);
        string ownerListBefore = await Body(await owner.Client.GetAsync($"/v1/corpora/{owner.Only}/documents"), HttpStatusCode.OK, "owner's list");
        string ownerSameBefore = await Body(await owner.Client.GetAsync($"/v1/corpora/{world.Same}/documents"), HttpStatusCode.OK, "owner's same list");
        string ownerDocBefore = await Body(await owner.Client.GetAsync($"/v1/corpora/{world.Same}/documents/{owner.SamePath}"), HttpStatusCode.OK, "owner's document");

        // The listing: the reader's own and the shared corpora, never the owner's.
        string corpora = await Body(await me.Client.GetAsync("/v1/corpora"), HttpStatusCode.OK, "GET /v1/corpora");
        AssertClean(corpora, owner, "GET /v1/corpora");
        using (var listed = JsonDocument.Parse(corpora))
        {
            var keys = listed.RootElement.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("key").GetString()).ToList();
            Assert.Contains(me.SameKey(world.Same), keys);
            Assert.Contains("sqlite-docs", keys);
            Assert.DoesNotContain(keys, k => k!.StartsWith(owner.Tenant + "/", StringComparison.Ordinal));
        }

        // The same-named corpus is the reader's own: its documents, never the owner's.
        string same = await Body(await me.Client.GetAsync($"/v1/corpora/{world.Same}/documents"), HttpStatusCode.OK, "list same");
        AssertClean(same, owner, "list same");
        Assert.Contains(me.SamePath, same, StringComparison.Ordinal);
        AssertClean(await Body(await me.Client.GetAsync($"/v1/corpora/{world.Same}/documents?prefix=notes/"), HttpStatusCode.OK, "list same"), owner, "list same by prefix");

        // Every route on the owner's own corpus, from the reader: 404, worded as for a corpus nobody has.
        string nobody = "only-" + IsolationWorld.Word("");
        var routes = new (string Name, Func<string, string, Task<HttpResponseMessage>> Send)[]
        {
            ("list", (c, p) => me.Client.GetAsync($"/v1/corpora/{c}/documents")),
            ("list with prefix", (c, p) => me.Client.GetAsync($"/v1/corpora/{c}/documents?prefix=secret/&limit=1")),
            ("get", (c, p) => me.Client.GetAsync($"/v1/corpora/{c}/documents/{p}")),
            ("put", (c, p) => CorporaApiTests.Put(me.Client, c, p, "# overwritten\n\nby the other tenant\n", "text/markdown")),
            ("put json", (c, p) => me.Client.PutAsJsonAsync($"/v1/corpora/{c}/documents/{p}", new { text = "overwritten", mediaType = "text/plain" })),
            ("delete document", (c, p) => me.Client.DeleteAsync($"/v1/corpora/{c}/documents/{p}")),
            ("delete corpus", (c, p) => me.Client.DeleteAsync($"/v1/corpora/{c}")),
        };
        foreach (var (name, send) in routes)
        {
            string theirs = await ProblemOf(await send(owner.Only, owner.OnlyPath), 404, owner.Only);
            string none = await ProblemOf(await send(nobody, owner.OnlyPath), 404, nobody);
            Assert.True(none == theirs, $"{name}: the owner's corpus answers differently from one nobody has:\n{theirs}\n{none}");
            AssertClean(theirs, owner, name);
        }

        // In the same-named corpus, the owner's document path is simply not there for the reader.
        string missing = "notes/" + IsolationWorld.Word("dir") + "/plan.md";
        foreach (var (name, send) in routes.Where(r => r.Name is "get" or "delete document"))
        {
            string theirs = await ProblemOf(await send(world.Same, owner.SamePath), 404, owner.SamePath);
            string none = await ProblemOf(await send(world.Same, missing), 404, missing);
            Assert.Equal(none, theirs);
        }

        // The reader writing the owner's path in its own same-named corpus writes its own document, nothing of the owner's.
        Assert.Equal(HttpStatusCode.Created, (await CorporaApiTests.Put(me.Client, world.Same, owner.SamePath, "# mine\n\nThe reader's own text.\n", "text/markdown")).StatusCode);
        var mine = await (await me.Client.GetAsync($"/v1/corpora/{world.Same}/documents/{owner.SamePath}")).Json();
        Assert.Equal("# mine\n\nThe reader's own text.\n", mine.GetProperty("text").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await me.Client.DeleteAsync($"/v1/corpora/{world.Same}/documents/{owner.SamePath}")).StatusCode);

        // The owner's corpora are as they were, byte for byte.
        Assert.Equal(ownerListBefore, await Body(await owner.Client.GetAsync($"/v1/corpora/{owner.Only}/documents"), HttpStatusCode.OK, "owner's list after"));
        Assert.Equal(ownerSameBefore, await Body(await owner.Client.GetAsync($"/v1/corpora/{world.Same}/documents"), HttpStatusCode.OK, "owner's same list after"));
        Assert.Equal(ownerDocBefore, await Body(await owner.Client.GetAsync($"/v1/corpora/{world.Same}/documents/{owner.SamePath}"), HttpStatusCode.OK, "owner's document after"));
        var set = await CorporaApiTests.Compile(owner.Client, owner.OnlyWord, owner.Only);
        Assert.Contains(set.GetProperty("citations").EnumerateArray(), c => c.GetProperty("path").GetString() == owner.OnlyPath);
    }

    [Theory]
    [InlineData("alpha")]
    [InlineData("beta")]
    public async Task The_shared_corpus_is_readable_by_both_tenants(string reader)
    {
        var (me, owner) = Pair(reader);
        var set = await CorporaApiTests.Compile(me.Client, "How do I enable write-ahead logging?", "sqlite-docs");
        Assert.Contains(set.GetProperty("citations").EnumerateArray(), c => c.GetProperty("path").GetString() == "wal.md");
        Assert.All(set.GetProperty("citations").EnumerateArray(), c => Assert.Equal("sqlite-docs", c.GetProperty("corpus").GetString()));
        var all = await CorporaApiTests.Compile(me.Client, "How do I enable write-ahead logging?");
        Assert.Contains(all.GetProperty("citations").EnumerateArray(), c => c.GetProperty("path").GetString() == "wal.md");

        string listed = await Body(await me.Client.GetAsync("/v1/corpora/sqlite-docs/documents"), HttpStatusCode.OK, "shared list");
        Assert.Contains("wal.md", listed, StringComparison.Ordinal);
        AssertClean(listed, owner, "shared list");
        var document = await (await me.Client.GetAsync("/v1/corpora/sqlite-docs/documents/wal.md")).Json();
        Assert.Contains("WAL", document.GetProperty("text").GetString(), StringComparison.Ordinal);
        // Readable, not writable.
        await (await CorporaApiTests.Put(me.Client, "sqlite-docs", "wal.md", "# mine\n", "text/markdown")).AssertProblem(404);
        await (await me.Client.DeleteAsync("/v1/corpora/sqlite-docs/documents/wal.md")).AssertProblem(404);
    }

    // BM25 weighs a term by how rare it is among the spans searched. If those statistics counted every tenant's spans, the
    // scores of the reader's own documents would move when the owner uploads text with the same words, telling the reader
    // what the owner's documents say. The reader's working set, scores and explain must not move at all. (Only with the
    // default in-memory bm25: FTS5's bm25() keeps its statistics over the whole table, see Fts5LexicalRetriever.)
    [Theory]
    [InlineData("alpha")]
    [InlineData("beta")]
    public async Task The_other_tenants_uploads_do_not_move_the_readers_scores(string reader)
    {
        var (me, owner) = Pair(reader);
        string word = IsolationWorld.Word("idf");
        string path = $"stats/{word}.md";
        string mine = $"# Stats\n\nThe {word} counter is one of many counters here, with {world.Common} words around it.\n";
        Assert.Equal(HttpStatusCode.Created, (await CorporaApiTests.Put(me.Client, world.Same, path, mine, "text/markdown")).StatusCode);
        try
        {
            async Task<string> Scores()
            {
                var response = await me.Client.PostAsJsonAsync("/v1/compile", new { query = $"{word} counter", budget = 2000, explain = true, options = new { vectorWeight = 0 } });
                var set = await response.Json();
                Assert.Contains(set.GetProperty("citations").EnumerateArray(), c => c.GetProperty("path").GetString() == path);
                return set.GetProperty("citations").GetRawText() + set.GetProperty("text").GetString()
                    + set.GetProperty("explain").GetProperty("candidates").GetRawText();
            }

            string before = await Scores();
            for (int i = 0; i < 8; i++)
            {
                Assert.Equal(HttpStatusCode.Created, (await CorporaApiTests.Put(owner.Client, owner.Only, $"stats/{i}.md",
                    $"# {word} {i}\n\n{word} {word} {word} counter counter.\n", "text/markdown")).StatusCode);
            }

            Assert.Equal(before, await Scores());
        }
        finally
        {
            await me.Client.DeleteAsync($"/v1/corpora/{world.Same}/documents/{path}");
            for (int i = 0; i < 8; i++)
            {
                await owner.Client.DeleteAsync($"/v1/corpora/{owner.Only}/documents/stats/{i}.md");
            }
        }
    }

    // The problem body with the traceId left out and the probed name replaced, so that two problems compare as text.
    private static async Task<string> ProblemOf(HttpResponseMessage response, int status, string probe)
    {
        var problem = await response.AssertProblem(status);
        var node = JsonNode.Parse(problem.GetRawText())!.AsObject();
        node.Remove("traceId");
        return node.ToJsonString().Replace(probe, "X", StringComparison.Ordinal);
    }

    private Task<McpClient> Connect(string apiKey)
    {
        var http = new HttpClient(world.Factory.Server.CreateHandler()) { BaseAddress = world.Factory.Server.BaseAddress };
        var options = new HttpClientTransportOptions
        {
            Endpoint = new Uri(http.BaseAddress!, "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["X-Api-Key"] = apiKey },
        };
        return McpClient.CreateAsync(new HttpClientTransport(options, http, ownsHttpClient: true));
    }

    private static string Json(CallToolResult result) => JsonSerializer.Serialize(result, McpJsonUtilities.DefaultOptions);

    private static string Text(CallToolResult result) => string.Concat(result.Content.OfType<TextContentBlock>().Select(b => b.Text));
}
