using System.Text.Json;
using ContextCompiler.Core.Cite;
using ContextCompiler.Engine.Sessions.Compacting;

namespace ContextCompiler.Engine.Sessions.Contract;

/// <summary>
/// What every <see cref="ISessionRepository"/> and <see cref="IIdempotencyKeyStore"/> must do, run against each store by
/// a subclass (this file is compiled into the SQLite and the PostgreSQL test projects). Each test uses a tenant of its
/// own, because a store may be shared by the tests of a run, and only asserts on its own rows.
/// </summary>
/// <remarks>
/// <c>[ContractFact]</c> is defined by each project: a plain fact for SQLite, one that skips without Node.js (PGlite)
/// for PostgreSQL.
/// </remarks>
public abstract class SessionStoreContract : IDisposable
{
    // Seven fractional digits on purpose: a store that keeps fewer must still return what it handed out.
    private static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    /// <summary>The stores' clock, which stands still until a test moves it.</summary>
    protected ContractClock Clock { get; } = new(Start.AddTicks(1_234_567));

    /// <summary>This test's tenant.</summary>
    protected string Tenant { get; } = "tenant-" + Guid.NewGuid().ToString("N");

    /// <summary>Another tenant, which must never see <see cref="Tenant"/>'s sessions.</summary>
    protected string OtherTenant { get; } = "other-" + Guid.NewGuid().ToString("N");

    /// <summary>A new repository on the same store with <see cref="Clock"/>, as another replica (or process) would have.</summary>
    protected abstract ISessionRepository NewReplica();

    /// <summary>The store's idempotency keys with <see cref="Clock"/>.</summary>
    protected abstract IIdempotencyKeyStore NewKeys();

    /// <summary>The store's compactions, as another replica would have them.</summary>
    protected abstract ICompactionStore NewCompactions();

    [ContractFact]
    public void Compactions_come_back_exactly_in_order_per_tenant_and_go_with_their_session()
    {
        var repository = NewReplica();
        var settings = new CompactionSettings(CompactionModes.Off, 3, 0.25);
        var now = repository.Now();
        var session = new Session(SessionIds.New(), "u", SessionStatus.Open, null, null, now, now, 0) { Tenant = Tenant, Compaction = settings };
        repository.Insert(session, null, null);
        Assert.Equal(settings, NewReplica().Find(Tenant, session.Id)!.Compaction);
        for (int i = 0; i < 4; i++)
        {
            repository.Append(Tenant, session.Id, Draft(MessageRoles.User, $"m{i}"));
        }

        var compactions = NewCompactions();
        Assert.Empty(compactions.List(Tenant, session.Id));
        // The summary quotes the client's text, which may hold NUL and lone surrogates; it must come back as stored.
        var first = new Compaction(SessionIds.New(), 1, 1, 2, 3, "- User asked: nul \0 and lone \uD800 😀\n- Assistant: kept.", 17, ExtractiveSummarizer.Name,
            null, null, CompactionTriggers.Auto, null, repository.Now());
        var second = new Compaction(SessionIds.New(), 2, 3, 3, 4, "- newer", 3, ChatClientSummarizer.Name, "gpt-test", new string('a', 64),
            CompactionTriggers.Manual, "The model failed: timeout", repository.Now());
        compactions.Add(Tenant, session.Id, first);
        NewCompactions().Add(Tenant, session.Id, second);

        Assert.Equal([first, second], NewCompactions().List(Tenant, session.Id));
        Assert.Empty(NewCompactions().List(OtherTenant, session.Id));
        // Another writer's compaction of the same number is refused, and another tenant cannot add to the session.
        Assert.Throws<SessionConflictException>(() => NewCompactions().Add(Tenant, session.Id, second with { Id = SessionIds.New() }));
        Assert.Throws<SessionNotFoundException>(() => NewCompactions().Add(OtherTenant, session.Id, second with { Id = SessionIds.New(), Number = 3 }));
        Assert.Throws<SessionNotFoundException>(() => NewCompactions().Add(Tenant, SessionIds.New(), first with { Id = SessionIds.New() }));
        Assert.Equal(2, NewCompactions().List(Tenant, session.Id).Count);
        // The messages stay as they were.
        Assert.Equal(["m0", "m1", "m2", "m3"], repository.Messages(Tenant, session.Id).Select(m => m.Content));

        Assert.True(repository.Delete(Tenant, session.Id));
        Assert.Empty(NewCompactions().List(Tenant, session.Id));
    }

    /// <inheritdoc />
    public virtual void Dispose() => GC.SuppressFinalize(this);

    [ContractFact]
    public void Created_session_is_found_equal_and_closed_and_deleted()
    {
        var repository = NewReplica();
        var budgets = new SessionBudgets(ContextBudget: 1000, HistoryBudget: 500, ContextShare: 0.25);
        var created = Create(repository, Tenant, "alice", """{"topic": "tests", "n": [1, 2.50, true]}""", budgets);

        var found = repository.Find(Tenant, created.Id);
        AssertSameSession(created, found);
        Assert.Equal(budgets, found!.DefaultBudgets);
        Assert.Equal(0, found.MessageCount);
        Assert.Equal(TimeSpan.Zero, found.CreatedAt.Offset);
        Assert.Null(repository.Find(Tenant, SessionIds.New()));
        Assert.Null(repository.Find(Tenant, "not-an-id"));

        Clock.Advance(TimeSpan.FromSeconds(5));
        var closed = repository.Close(Tenant, created.Id);
        Assert.Equal(SessionStatus.Closed, closed.Status);
        Assert.Equal(repository.Now(), closed.UpdatedAt);
        Assert.Equal(created.CreatedAt, closed.CreatedAt);

        // Closing again changes nothing, not even the time.
        Clock.Advance(TimeSpan.FromSeconds(5));
        AssertSameSession(closed, repository.Close(Tenant, created.Id));
        Assert.Throws<SessionNotFoundException>(() => repository.Close(Tenant, SessionIds.New()));

        Assert.True(repository.Delete(Tenant, created.Id));
        Assert.False(repository.Delete(Tenant, created.Id));
        Assert.Null(repository.Find(Tenant, created.Id));
        Assert.Throws<SessionNotFoundException>(() => repository.Messages(Tenant, created.Id));
    }

    [ContractFact]
    public void List_filters_orders_pages_and_counts()
    {
        var repository = NewReplica();
        var sessions = new List<Session>();
        for (int i = 0; i < 6; i++)
        {
            sessions.Add(Create(repository, Tenant, i % 2 == 0 ? "even" : "odd", null));
            Clock.Advance(TimeSpan.FromMinutes(1));
        }

        // Messages reorder by count and touch updated_at: session 0 gets 3, session 5 gets 1, and session 1 is closed.
        for (int i = 0; i < 3; i++)
        {
            repository.Append(Tenant, sessions[0].Id, Draft(MessageRoles.System, $"m{i}"));
        }

        Clock.Advance(TimeSpan.FromMinutes(1));
        repository.Append(Tenant, sessions[5].Id, Draft(MessageRoles.System, "m"));
        Clock.Advance(TimeSpan.FromMinutes(1));
        repository.Close(Tenant, sessions[1].Id);
        Create(repository, OtherTenant, "even", null);

        string[] Ids(SessionPage page) => page.Items.Select(s => s.Id).ToArray();
        string[] Pick(params int[] indexes) => indexes.Select(i => sessions[i].Id).ToArray();

        var all = repository.List(Tenant, new SessionQuery());
        Assert.Equal(6, all.Total);
        Assert.Equal(Pick(5, 4, 3, 2, 1, 0), Ids(all)); // createdAt desc by default
        Assert.Equal(Pick(0, 1, 2, 3, 4, 5), Ids(repository.List(Tenant, new SessionQuery(Direction: "ASC"))));
        Assert.Equal(Pick(1, 5, 0, 4, 3, 2), Ids(repository.List(Tenant, new SessionQuery(OrderBy: "updatedAt"))));
        // Ties in message count fall back to the id, ordinally, in the same direction (ids made in one millisecond are in no set order).
        var silent = Pick(1, 2, 3, 4).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal([.. Pick(0, 5), .. silent.Reverse()], Ids(repository.List(Tenant, new SessionQuery(OrderBy: "messageCount"))));
        Assert.Equal([.. silent, .. Pick(5, 0)], Ids(repository.List(Tenant, new SessionQuery(OrderBy: "messageCount", Direction: "asc"))));

        var page = repository.List(Tenant, new SessionQuery(Direction: "asc", Limit: 2, Offset: 3));
        Assert.Equal(6, page.Total);
        Assert.Equal(Pick(3, 4), Ids(page));
        var beyond = repository.List(Tenant, new SessionQuery(Offset: 10));
        Assert.Equal(6, beyond.Total);
        Assert.Empty(beyond.Items);

        var even = repository.List(Tenant, new SessionQuery(UserId: "even", Direction: "asc"));
        Assert.Equal(3, even.Total);
        Assert.Equal(Pick(0, 2, 4), Ids(even));
        Assert.Equal(Pick(0, 2, 3, 4, 5), Ids(repository.List(Tenant, new SessionQuery(Status: SessionStatus.Open, Direction: "asc"))));
        Assert.Equal(Pick(1), Ids(repository.List(Tenant, new SessionQuery(UserId: "odd", Status: SessionStatus.Closed))));
        // An empty user filter is no filter, as in the API.
        Assert.Equal(6, repository.List(Tenant, new SessionQuery(UserId: "")).Total);

        // Time bounds: after is inclusive, before exclusive, to the tick.
        var third = sessions[2].CreatedAt;
        Assert.Equal(Pick(2, 3, 4, 5), Ids(repository.List(Tenant, new SessionQuery(CreatedAfter: third, Direction: "asc"))));
        Assert.Equal(Pick(3, 4, 5), Ids(repository.List(Tenant, new SessionQuery(CreatedAfter: third.AddTicks(1), Direction: "asc"))));
        Assert.Equal(Pick(0, 1), Ids(repository.List(Tenant, new SessionQuery(CreatedBefore: third, Direction: "asc"))));
        Assert.Equal(Pick(0, 1, 2), Ids(repository.List(Tenant, new SessionQuery(CreatedBefore: third.AddTicks(1), Direction: "asc"))));
        Assert.Equal(Pick(0, 1, 2), Ids(repository.List(Tenant, new SessionQuery(CreatedBefore: third.AddTicks(-1).ToOffset(TimeSpan.FromHours(2)).AddTicks(2), Direction: "asc"))));
        var touched = repository.Find(Tenant, sessions[5].Id)!.UpdatedAt;
        Assert.Equal(Pick(1, 5), Ids(repository.List(Tenant, new SessionQuery(UpdatedAfter: touched, OrderBy: "updatedAt"))));
        Assert.Equal(Pick(0, 4), Ids(repository.List(Tenant, new SessionQuery(
            UpdatedAfter: sessions[3].UpdatedAt, UpdatedBefore: touched.AddTicks(-1), OrderBy: "updatedAt", Limit: 2))));
    }

    [ContractFact]
    public void List_rejects_unknown_orders_directions_statuses_and_pages()
    {
        var repository = NewReplica();
        void Rejects(SessionQuery query, string message) =>
            Assert.Equal(message, Assert.Throws<ArgumentException>(() => repository.List(Tenant, query)).Message);

        Rejects(new SessionQuery(OrderBy: "id"), "orderBy must be createdAt, updatedAt or messageCount, not 'id'.");
        Rejects(new SessionQuery(OrderBy: "created_at; DROP TABLE sessions"), "orderBy must be createdAt, updatedAt or messageCount, not 'created_at; DROP TABLE sessions'.");
        Rejects(new SessionQuery(Direction: "up"), "direction must be asc or desc, not 'up'.");
        Rejects(new SessionQuery(Status: "Open"), "status must be open or closed, not 'Open'.");
        Rejects(new SessionQuery(Limit: 0), "limit must be between 1 and 500 and offset at least 0.");
        Rejects(new SessionQuery(Limit: 501), "limit must be between 1 and 500 and offset at least 0.");
        Rejects(new SessionQuery(Offset: -1), "limit must be between 1 and 500 and offset at least 0.");
        Assert.Empty(repository.List(Tenant, new SessionQuery(Limit: 500)).Items);
    }

    [ContractFact]
    public void Another_tenants_session_is_not_found_through_any_method()
    {
        var repository = NewReplica();
        var session = Create(repository, Tenant, "alice", """{"a":1}""");
        var turn = repository.Append(Tenant, session.Id, Draft(MessageRoles.User, "question", WorkingSet(7)), new TurnBudgetRecord(100, 10, 500));
        var keys = NewKeys();
        repository.Append(Tenant, session.Id, Draft(MessageRoles.Assistant, "answer"), idempotency: Claim<Message>("key-1"));

        Assert.Null(repository.Find(OtherTenant, session.Id));
        Assert.Throws<SessionNotFoundException>(() => repository.Get(OtherTenant, session.Id));
        Assert.Equal(0, repository.List(OtherTenant, new SessionQuery()).Total);
        Assert.Equal(0, repository.List(OtherTenant, new SessionQuery(UserId: "alice")).Total);
        Assert.Throws<SessionNotFoundException>(() => repository.Close(OtherTenant, session.Id));
        Assert.False(repository.Delete(OtherTenant, session.Id));
        Assert.Throws<SessionNotFoundException>(() => repository.Messages(OtherTenant, session.Id));
        Assert.Empty(repository.WorkingSets(OtherTenant, session.Id));
        Assert.Empty(repository.TurnTotals(OtherTenant, [session.Id]));
        Assert.Empty(repository.TurnBudgets(OtherTenant, session.Id));
        Assert.Null(repository.LatestWorkingSet(OtherTenant, session.Id));
        Assert.Throws<SessionNotFoundException>(() => repository.Append(OtherTenant, session.Id, Draft(MessageRoles.System, "intruder")));
        Assert.Null(keys.Find(OtherTenant, "key-1"));

        // Nothing of it changed the owner's session.
        var after = repository.Find(Tenant, session.Id)!;
        Assert.Equal(SessionStatus.Open, after.Status);
        Assert.Equal(2, after.MessageCount);
        Assert.Equal(new[] { turn.Id }, repository.WorkingSets(Tenant, session.Id).Keys);
        Assert.NotNull(keys.Find(Tenant, "key-1"));
    }

    [ContractFact]
    public async Task Concurrent_appends_from_several_replicas_get_gapless_sequences()
    {
        var session = Create(NewReplica(), Tenant, null, null);
        const int Writers = 4, Appends = 10;
        var results = await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(() =>
        {
            var replica = NewReplica();
            return Enumerable.Range(0, Appends)
                .Select(i => replica.Append(Tenant, session.Id, Draft(MessageRoles.User, $"w{w} m{i}", WorkingSet(w + i))))
                .ToList();
        })));

        var returned = results.SelectMany(r => r).Select(m => m.Sequence).Order().ToArray();
        Assert.Equal(Enumerable.Range(1, Writers * Appends).Select(i => (long)i).ToArray(), returned);
        // Each writer's own appends come back in increasing order.
        Assert.All(results, writes => Assert.Equal(writes.Select(m => m.Sequence).Order(), writes.Select(m => m.Sequence)));

        var repository = NewReplica();
        var stored = repository.Messages(Tenant, session.Id);
        Assert.Equal(returned, stored.Select(m => m.Sequence).ToArray());
        Assert.Equal(Writers * Appends, repository.Find(Tenant, session.Id)!.MessageCount);
        var byId = results.SelectMany(r => r).ToDictionary(m => m.Id);
        Assert.All(stored, m => AssertSameMessage(byId[m.Id], m));
        long tokens = Enumerable.Range(0, Writers).SelectMany(w => Enumerable.Range(0, Appends).Select(i => (long)TokensOf($"x{w + i}"))).Sum();
        Assert.Equal((Writers * Appends, tokens), repository.TurnTotals(Tenant, [session.Id])[session.Id]);
    }

    [ContractFact]
    public void An_append_after_a_stale_history_is_a_conflict_and_gives_its_sequence_back()
    {
        var first = NewReplica();
        var second = NewReplica();
        var session = Create(first, Tenant, null, null);
        // Both replicas read the empty session; the second stores its turn first.
        second.Append(Tenant, session.Id, Draft(MessageRoles.User, "second's turn"), afterSequence: 0);

        var stale = Assert.Throws<SessionConflictException>(() => first.Append(Tenant, session.Id, Draft(MessageRoles.User, "first's turn"), afterSequence: 0));
        Assert.Contains("now at 1", stale.Message, StringComparison.Ordinal);
        Assert.Equal(["second's turn"], first.Messages(Tenant, session.Id).Select(m => m.Content));

        // The refused append took no sequence: the next one that read the current history is number 2.
        Assert.Equal(2, first.Append(Tenant, session.Id, Draft(MessageRoles.User, "first's turn again"), afterSequence: 1).Sequence);
        Assert.Equal(2, first.Find(Tenant, session.Id)!.MessageCount);
    }

    [ContractFact]
    public void Appending_to_a_closed_or_missing_session_fails_and_writes_nothing()
    {
        var repository = NewReplica();
        var session = Create(repository, Tenant, null, null);
        repository.Append(Tenant, session.Id, Draft(MessageRoles.System, "first"));
        var closed = repository.Close(Tenant, session.Id);

        Clock.Advance(TimeSpan.FromMinutes(1));
        var conflict = Assert.Throws<SessionConflictException>(() => repository.Append(Tenant, session.Id, Draft(MessageRoles.System, "late")));
        Assert.Equal($"Session '{session.Id}' is closed.", conflict.Message);
        AssertSameSession(closed, repository.Find(Tenant, session.Id));
        Assert.Single(repository.Messages(Tenant, session.Id));

        Assert.Throws<SessionNotFoundException>(() => repository.Append(Tenant, SessionIds.New(), Draft(MessageRoles.System, "nowhere")));
        Assert.Throws<SessionNotFoundException>(() => repository.Append(Tenant, "not-an-id", Draft(MessageRoles.System, "nowhere")));
    }

    [ContractFact]
    public async Task Open_sessions_limit_holds_under_concurrent_inserts_from_several_replicas()
    {
        const int Max = 3, Attempts = 8;
        var outcomes = await Task.WhenAll(Enumerable.Range(0, Attempts).Select(_ => Task.Run(() =>
        {
            try
            {
                Create(NewReplica(), Tenant, "busy", null, max: Max);
                return "created";
            }
            catch (SessionCapacityException e)
            {
                Assert.Equal($"User 'busy' already has {Max} open sessions; close one first.", e.Message);
                return "full";
            }
        })));

        Assert.Equal(Max, outcomes.Count(o => o == "created"));
        var repository = NewReplica();
        var open = repository.List(Tenant, new SessionQuery(UserId: "busy", Status: SessionStatus.Open));
        Assert.Equal(Max, open.Total);

        // The limit counts open sessions of this user only: another user, and a session closed, make room.
        Create(repository, Tenant, "someone else", null, max: Max);
        Create(repository, Tenant, null, null, max: Max);
        repository.Close(Tenant, open.Items[0].Id);
        Create(repository, Tenant, "busy", null, max: Max);
        Assert.Throws<SessionCapacityException>(() => Create(repository, Tenant, "busy", null, max: Max));
        Assert.Equal(Max + 1, repository.List(Tenant, new SessionQuery(UserId: "busy")).Total);
    }

    [ContractFact]
    public void Idempotency_key_is_saved_with_its_write_and_a_live_key_cannot_be_taken()
    {
        var repository = NewReplica();
        var keys = NewKeys();
        var lifetime = TimeSpan.FromHours(1);
        var session = Create(repository, Tenant, null, null, idempotency: Claim<Session>("create-1", lifetime));
        Assert.Equal(Response(session.Id), keys.Find(Tenant, "create-1")!.Response);
        Assert.Equal("fp:create-1", keys.Find(Tenant, "create-1")!.Fingerprint);

        var turn = repository.Append(Tenant, session.Id, Draft(MessageRoles.User, "q", WorkingSet(3)), new TurnBudgetRecord(10, 2, null),
            Claim<Message>("turn-1", lifetime));
        var record = keys.Find(Tenant, "turn-1");
        Assert.NotNull(record);
        Assert.Equal(new IdempotencyRecord("fp:turn-1", Response(turn.Id)), record);

        // A second write with the same live key, as a concurrent request on another replica would make: nothing is written.
        Clock.Advance(TimeSpan.FromMinutes(30));
        var other = NewReplica();
        Assert.Throws<IdempotencyKeyTakenException>(() =>
            other.Append(Tenant, session.Id, Draft(MessageRoles.User, "q again", WorkingSet(4)), new TurnBudgetRecord(10, 2, null), Claim<Message>("turn-1", lifetime)));
        var unchanged = repository.Find(Tenant, session.Id)!;
        Assert.Equal(1, unchanged.MessageCount);
        Assert.Equal(turn.CreatedAt, unchanged.UpdatedAt);
        Assert.Single(repository.Messages(Tenant, session.Id));
        Assert.Single(repository.WorkingSets(Tenant, session.Id));
        Assert.Single(repository.TurnBudgets(Tenant, session.Id));
        Assert.Equal(record, keys.Find(Tenant, "turn-1"));
        // The sequence number was not used up: the next append is 2.
        Assert.Equal(2, repository.Append(Tenant, session.Id, Draft(MessageRoles.Assistant, "a")).Sequence);

        int before = repository.List(Tenant, new SessionQuery()).Total;
        Assert.Throws<IdempotencyKeyTakenException>(() => Create(other, Tenant, null, null, idempotency: Claim<Session>("create-1", lifetime)));
        Assert.Equal(before, repository.List(Tenant, new SessionQuery()).Total);

        // The same key in another tenant is another key.
        Create(repository, OtherTenant, null, null, idempotency: Claim<Session>("create-1", lifetime));
        Assert.Equal(Response(session.Id), keys.Find(Tenant, "create-1")!.Response);
    }

    [ContractFact]
    public void Expired_key_is_taken_over_and_purged()
    {
        var repository = NewReplica();
        var keys = NewKeys();
        var session = Create(repository, Tenant, null, null);
        var first = repository.Append(Tenant, session.Id, Draft(MessageRoles.System, "one"), idempotency: Claim<Message>("k", TimeSpan.FromMinutes(10)));

        // Live up to a microsecond before it expires, gone from then on. (To the microsecond, not the tick: the PostgreSQL
        // store stamps the key at the start of its microsecond, so it may expire up to a microsecond early.)
        Clock.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromMicroseconds(1));
        Assert.Equal(Response(first.Id), keys.Find(Tenant, "k")!.Response);
        Clock.Advance(TimeSpan.FromMicroseconds(1));
        Assert.Null(keys.Find(Tenant, "k"));

        var second = repository.Append(Tenant, session.Id, Draft(MessageRoles.System, "two"), idempotency: Claim<Message>("k", TimeSpan.FromMinutes(10)));
        Assert.Equal(Response(second.Id), keys.Find(Tenant, "k")!.Response);

        repository.Append(Tenant, session.Id, Draft(MessageRoles.System, "three"), idempotency: Claim<Message>("short", TimeSpan.FromMinutes(1)));
        Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.True(keys.PurgeExpired() >= 1);
        Assert.Equal(Response(second.Id), keys.Find(Tenant, "k")!.Response);
        // Purged, not merely expired: with the clock set back it is still gone.
        Clock.Advance(TimeSpan.FromMinutes(-2));
        Assert.Null(keys.Find(Tenant, "short"));
        Assert.NotNull(keys.Find(Tenant, "k"));
    }

    [ContractFact]
    public void Client_text_round_trips_exactly()
    {
        string[] texts = ["nul \0 inside", "\0", "lone high \uD83D here", "lone low \uDE00", "\uDE00\uD83D reversed", "emoji 😀 👩‍💻", "  spaced  ", "ünïcödé"];
        const string metadataJson = """{ "z" : "\u0000 and \ud800 and \udc00\ud83d", "emoji":"😀", "a":[1, 1.0, 1e2] , "z":null }""";
        var repository = NewReplica();
        foreach (string text in texts)
        {
            var session = Create(repository, Tenant, text, metadataJson, max: 5);
            AssertSameSession(session, repository.Find(Tenant, session.Id));
            Assert.Equal(text, repository.Find(Tenant, session.Id)!.UserId);

            // The user filter and the open-sessions count match the exact text, not a lookalike.
            var page = repository.List(Tenant, new SessionQuery(UserId: text));
            Assert.Equal(session.Id, Assert.Single(page.Items).Id);
            Create(repository, Tenant, text, null, max: 2);
            Assert.Throws<SessionCapacityException>(() => Create(repository, Tenant, text, null, max: 2));

            var message = repository.Append(Tenant, session.Id, Draft(MessageRoles.Tool, text + " content", metadata: metadataJson));
            var stored = Assert.Single(repository.Messages(Tenant, session.Id));
            AssertSameMessage(message, stored);
            Assert.Equal(text + " content", stored.Content);
        }

        Assert.Equal(texts.Length * 2, repository.List(Tenant, new SessionQuery(Limit: 500)).Total);
        Assert.Empty(repository.List(Tenant, new SessionQuery(UserId: "nul  inside")).Items);
        Assert.Empty(repository.List(Tenant, new SessionQuery(UserId: "lone high \uFFFD here")).Items);
    }

    [ContractFact]
    public void Working_sets_budgets_and_citation_checks_come_back_exactly()
    {
        var repository = NewReplica();
        var session = Create(repository, Tenant, null, null);
        var other = Create(repository, Tenant, null, null);
        Assert.Null(repository.LatestWorkingSet(Tenant, session.Id));
        Assert.Empty(repository.TurnTotals(Tenant, [session.Id, other.Id]));

        // Working sets are stored byte for byte, escapes and spacing included (PostgreSQL's JSON parser refuses "\u0000").
        var first = new RawJson("""{"tokenCount":12,"spans":[{"text":"a\u0000b \ud83d \"q\" 😀"}],"z" : 1 }""");
        var second = new RawJson("""{"tokenCount":30,"spans":[]}""");
        var noTokens = new RawJson("""{"spans":[]}""");
        var check = new CitationCheck(3, [1, 2], [9], [4], 5, 2, 0.4);
        var t1 = repository.Append(Tenant, session.Id, Draft(MessageRoles.User, "q1", first), new TurnBudgetRecord(400, 0, null));
        Clock.Advance(TimeSpan.FromSeconds(1));
        var reply = repository.Append(Tenant, session.Id, Draft(MessageRoles.Assistant, "a1 [1]") with { CitationCheck = check });
        var t2 = repository.Append(Tenant, session.Id, Draft(MessageRoles.User, "q2", second), new TurnBudgetRecord(400, 37, 2000));
        var t3 = repository.Append(Tenant, session.Id, Draft(MessageRoles.User, "q3", noTokens));
        repository.Append(Tenant, session.Id, Draft(MessageRoles.User, "q4 without a working set"));
        repository.Append(Tenant, other.Id, Draft(MessageRoles.User, "elsewhere", second));

        var workingSets = repository.WorkingSets(Tenant, session.Id);
        Assert.Equal(3, workingSets.Count);
        Assert.Equal(first.Json, workingSets[t1.Id].Json);
        Assert.Equal(second.Json, workingSets[t2.Id].Json);
        Assert.Equal(noTokens.Json, workingSets[t3.Id].Json);
        // The latest user turn that has a working set.
        Assert.Equal(noTokens.Json, repository.LatestWorkingSet(Tenant, session.Id)!.Json);

        var budgets = repository.TurnBudgets(Tenant, session.Id);
        Assert.Equal(2, budgets.Count);
        Assert.Equal(new TurnBudgetRecord(400, 0, null), budgets[t1.Id]);
        Assert.Equal(new TurnBudgetRecord(400, 37, 2000), budgets[t2.Id]);

        var totals = repository.TurnTotals(Tenant, [session.Id, other.Id, session.Id, SessionIds.New(), "not-an-id"]);
        Assert.Equal(2, totals.Count);
        Assert.Equal((4, 42L), totals[session.Id]);
        Assert.Equal((1, 30L), totals[other.Id]);
        Assert.Empty(repository.TurnTotals(Tenant, []));

        var messages = repository.Messages(Tenant, session.Id);
        Assert.Equal(new long[] { 1, 2, 3, 4, 5 }, messages.Select(m => m.Sequence));
        Assert.Equal(JsonSerializer.Serialize(check, SessionJson.Options), JsonSerializer.Serialize(messages[1].CitationCheck, SessionJson.Options));
        AssertSameMessage(reply, messages[1]);
        Assert.All(messages.Where(m => m.Role != MessageRoles.Assistant), m => Assert.Null(m.CitationCheck));
        Assert.Equal(t2.CreatedAt, repository.Find(Tenant, other.Id)!.UpdatedAt);
    }

    [ContractFact]
    public void Sessions_last_updated_before_a_cutoff_are_deleted()
    {
        // Long before every other test's times, so the sweep (which covers every tenant) finds only these.
        Clock.Now = new DateTimeOffset(1990, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(7);
        var repository = NewReplica();
        var old = Create(repository, Tenant, null, null);
        var touched = Create(repository, Tenant, null, null);
        Clock.Advance(TimeSpan.FromDays(10));
        var message = repository.Append(Tenant, touched.Id, Draft(MessageRoles.User, "still here", WorkingSet(1)), new TurnBudgetRecord(1, 1, 1));
        var recent = Create(repository, OtherTenant, null, null);

        // The cutoff is exclusive to the tick.
        Assert.Equal(0, repository.DeleteUpdatedBefore(old.UpdatedAt));
        Assert.Equal(1, repository.DeleteUpdatedBefore(old.UpdatedAt.AddTicks(1)));
        Assert.Null(repository.Find(Tenant, old.Id));
        Assert.Equal(0, repository.DeleteUpdatedBefore(message.CreatedAt));
        Assert.NotNull(repository.Find(Tenant, touched.Id));
        Assert.Single(repository.Messages(Tenant, touched.Id));

        Assert.Equal(2, repository.DeleteUpdatedBefore(recent.UpdatedAt.AddTicks(1)));
        Assert.Null(repository.Find(Tenant, touched.Id));
        Assert.Null(repository.Find(OtherTenant, recent.Id));
        Assert.Empty(repository.WorkingSets(Tenant, touched.Id));
        Assert.Empty(repository.TurnBudgets(Tenant, touched.Id));
    }

    // What SessionStore.Create does: the session is stamped with the store's Now, and the repository returns nothing new.
    private static Session Create(
        ISessionRepository repository, string tenant, string? userId, string? metadataJson, SessionBudgets? budgets = null, int? max = null,
        IdempotencyClaim<Session>? idempotency = null)
    {
        var now = repository.Now();
        JsonElement? metadata = metadataJson is null ? null : Parse(metadataJson);
        var session = new Session(SessionIds.New(), userId, SessionStatus.Open, metadata, budgets, now, now, 0) { Tenant = tenant };
        repository.Insert(session, metadata, max, idempotency);
        return session;
    }

    private static MessageDraft Draft(string role, string content, RawJson? workingSet = null, string? metadata = null) =>
        new(role, content, metadata is null ? null : Parse(metadata), workingSet);

    // A working set whose tokenCount is derived from n, so totals can be checked from the messages.
    private static RawJson WorkingSet(int n) => new($$"""{"tokenCount":{{TokensOf($"x{n}")}},"query":"x{{n}}"}""");

    private static int TokensOf(string content) => content.Length * 3;

    private static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    // The body holds text a store must keep exactly, as a response body may (it is the client's content echoed).
    private static StoredResponse Response(string id) => new(201, $$"""{"id":"{{id}}","echo":"nul \u0000 \ud800","raw":"a{{'\0'}}b{{'\uD800'}}😀"}""", $"/v1/things/{id}");

    private static IdempotencyClaim<T> Claim<T>(string key, TimeSpan? lifetime = null) where T : class =>
        new(key, "fp:" + key, lifetime ?? TimeSpan.FromHours(24), result => Response(result switch
        {
            Session s => s.Id,
            Message m => m.Id,
            _ => throw new InvalidOperationException(),
        }));

    private static void AssertSameSession(Session expected, Session? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Tenant, actual.Tenant);
        Assert.Equal(expected.UserId, actual.UserId);
        Assert.Equal(expected.Status, actual.Status);
        Assert.Equal(expected.Metadata?.GetRawText(), actual.Metadata?.GetRawText());
        Assert.Equal(expected.DefaultBudgets, actual.DefaultBudgets);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        Assert.Equal(expected.UpdatedAt, actual.UpdatedAt);
        Assert.Equal(expected.MessageCount, actual.MessageCount);
        // With the metadata compared as text, the rest of the record must be equal too.
        Assert.Equal(expected with { Metadata = null }, actual with { Metadata = null });
    }

    private static void AssertSameMessage(Message expected, Message actual)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Role, actual.Role);
        Assert.Equal(expected.Content, actual.Content);
        Assert.Equal(expected.Sequence, actual.Sequence);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        Assert.Equal(expected.Metadata?.GetRawText(), actual.Metadata?.GetRawText());
        Assert.Equal(JsonSerializer.Serialize(expected.CitationCheck, SessionJson.Options), JsonSerializer.Serialize(actual.CitationCheck, SessionJson.Options));
    }
}

/// <summary>A clock that stands still until a test moves it, and may be set back.</summary>
public sealed class ContractClock(DateTimeOffset start) : TimeProvider
{
    /// <summary>The time it tells.</summary>
    public DateTimeOffset Now { get; set; } = start;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => Now;

    /// <summary>Moves the clock.</summary>
    public void Advance(TimeSpan by) => Now += by;
}
