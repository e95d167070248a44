using System.Globalization;

namespace ContextCompiler.Benchmarks.Load;

/// <summary>The options the <c>load</c> and <c>soak</c> commands share.</summary>
/// <param name="Database">--db: a prepared database, copied before use; null builds the default corpus into a new one.</param>
/// <param name="Sessions">--sessions: concurrent chats of the open loop.</param>
/// <param name="Replies">An assistant reply after each turn (--replies for load; on for soak unless --no-replies).</param>
/// <param name="PutsPerMinute">--puts: document PUTs a minute.</param>
/// <param name="Budget">--budget: each turn's totalBudget.</param>
/// <param name="TurnsPerSession">--turns-per-session: turns after which a chat starts a new session.</param>
/// <param name="Drain">--drain (seconds): how long turns still running after a schedule may take before they are cancelled.</param>
internal sealed record LoadSettings(string? Database, int Sessions, bool Replies, double PutsPerMinute, int Budget, int TurnsPerSession, TimeSpan Drain)
{
    /// <summary>One line for stderr: what the turns are made of.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Sessions} chats, total budget {Budget}, a new session every {TurnsPerSession} turns, {(Replies ? "an assistant reply after each turn" : "no replies")}, {PutsPerMinute} document PUTs a minute");

    /// <summary>Reads the shared options from <paramref name="args"/>, with the command's defaults for replies and PUTs.</summary>
    public static LoadSettings Parse(string[] args, bool replies, double putsPerMinute) => new(
        BenchmarkArgs.Option(args, "--db", "") is { Length: > 0 } db ? Path.GetFullPath(db) : null,
        int.Parse(BenchmarkArgs.Option(args, "--sessions", "32"), CultureInfo.InvariantCulture),
        replies,
        double.Parse(BenchmarkArgs.Option(args, "--puts", putsPerMinute.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture),
        int.Parse(BenchmarkArgs.Option(args, "--budget", "1500"), CultureInfo.InvariantCulture),
        int.Parse(BenchmarkArgs.Option(args, "--turns-per-session", "20"), CultureInfo.InvariantCulture),
        TimeSpan.FromSeconds(double.Parse(BenchmarkArgs.Option(args, "--drain", "30"), CultureInfo.InvariantCulture)));
}

/// <summary>
/// The served process a load run drives: <c>contextc serve</c> as its own process on a copy of the database (the source
/// is never written), with passage vectors from the shared embedding cache; an HTTP client sized for open-loop load; and
/// the run's text. It starts chats and runs open loops of turns over them. Disposing stops the server and deletes the copy.
/// </summary>
internal sealed class LoadTarget : IAsyncDisposable
{
    private readonly string _folder;

    private LoadTarget(string folder, ServeProcess server, HttpClient http, ChatText text)
    {
        _folder = folder;
        Server = server;
        Http = http;
        Text = text;
    }

    /// <summary>The server process.</summary>
    public ServeProcess Server { get; }

    /// <summary>A client of the server (its base address set).</summary>
    public HttpClient Http { get; }

    /// <summary>The questions and the run's nonce.</summary>
    public ChatText Text { get; }

    /// <summary>Failures of every request of the run.</summary>
    public ErrorTally Errors { get; } = new();

    /// <summary>Cancelled by the first Ctrl-C, so a run can stop, report what it has and clean up; a second one quits at once.</summary>
    public static CancellationTokenSource CancelOnCtrlC()
    {
        var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            if (!stop.IsCancellationRequested)
            {
                e.Cancel = true;
                Console.Error.WriteLine("stopping after the requests in flight (Ctrl-C again to quit at once)");
                stop.Cancel();
            }
        };
        return stop;
    }

    /// <summary>Copies the database (or prepares a new one), starts the server and waits until every span has its vector.</summary>
    public static async Task<LoadTarget> StartAsync(LoadSettings settings, string command)
    {
        string root = ContextCompiler.Engine.Assets.RepositoryLayout.Root() ?? throw new InvalidOperationException("Run from inside the repository.");
        string folder = Directory.CreateTempSubdirectory($"contextc-{command}-").FullName;
        string database = Path.Combine(folder, "load.db");
        ServeProcess? server = null;
        HttpClient? http = null;
        try
        {
            if (settings.Database is { } source)
            {
                // A copy: the run writes sessions, turns and documents, and the source may be someone else's measurement.
                File.Copy(source, database);
                if (File.Exists(source + "-wal"))
                {
                    File.Copy(source + "-wal", database + "-wal");
                }
            }
            else
            {
                Console.Error.WriteLine("No --db given: contextc serve builds the default corpus (corpora/sqlite-docs) into a new database on "
                    + "its first start and embeds it; the turns start once every span has its vector (minutes with a cold embedding cache).");
            }

            string cache = Environment.GetEnvironmentVariable("CONTEXTC_EMBEDDING_CACHE") ?? Path.Combine(root, "data", "embedding-cache.db");
            Console.Error.WriteLine($"database {database}; passage embedding cache {cache}");
            if (!File.Exists(cache))
            {
                Console.Error.WriteLine($"{cache} does not exist: the server creates it and embeds every passage it needs (set CONTEXTC_EMBEDDING_CACHE to a warm one).");
            }

            server = await ServeProcess.StartAsync(root, database, new Dictionary<string, string?>
            {
                // The passage vectors come from the shared cache; the queries stay cold (every message is new).
                ["ContextCompiler__EmbeddingCachePath"] = cache,
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = null,
            });
            http = new HttpClient(new SocketsHttpHandler
            {
                // Open-loop load keeps as many requests in flight as the server makes it: a cap on connections would queue
                // them in this client, where the server's queueing would not show.
                MaxConnectionsPerServer = int.MaxValue,
                // Connections last the whole run, so no measured request pays for a new one after the warm-up.
                PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            })
            {
                BaseAddress = server.Address,
                Timeout = TimeSpan.FromMinutes(2),
            };
            await server.WaitForVectorsAsync(http);
            return new LoadTarget(folder, server, http, ChatText.Load(root));
        }
        catch
        {
            http?.Dispose();
            if (server is not null)
            {
                await server.DisposeAsync();
            }

            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// The script of one phase of the run (<c>open</c>, <c>closed</c>, <c>soak</c>): messages that never repeat (see
    /// <see cref="ChatText.Message"/>), replies if asked for, the budget and the session length.
    /// </summary>
    public ChatScript Script(LoadSettings settings, string phase) => new(
        (question, chat, k) => Text.Message(question, phase, chat, k),
        settings.Replies ? (_, _, k) => Text.Reply(k) : null,
        settings.Budget,
        settings.TurnsPerSession,
        IdempotencyKeys: false,
        Users: $"{phase}-{Text.Nonce}");

    /// <summary>Starts <paramref name="count"/> chats of <paramref name="script"/>, each with its first session.</summary>
    public async Task<ChatSession[]> StartChatsAsync(int count, ChatScript script)
    {
        var chats = new ChatSession[count];
        for (int i = 0; i < count; i++)
        {
            chats[i] = await ChatSession.StartAsync(() => Http, i, script, Errors);
        }

        return chats;
    }

    /// <summary>
    /// The open loop over <paramref name="chats"/>: turn k, due at k/rate, is the next turn of chat k mod chats, followed
    /// (untimed) by its reply and, when the session is done, a new session. <paramref name="first"/> numbers the turns on
    /// from earlier loops, so no message repeats.
    /// </summary>
    public Task<OpenLoopRun> TurnsAsync(
        ChatSession[] chats, ChatScript script, double rate, TimeSpan length, long first, LatencyLog log, TimeSpan drain, CancellationToken stop)
    {
        string Message(int chat, long k) => script.Message(Text.Questions[(first + k) % Text.Questions.Length], chat, first + k);
        return OpenLoop.RunAsync(rate, length, chats.Length,
            (chat, k, cancel) => chats[chat].TurnAsync(Message(chat, k), cancel),
            async (chat, k, cancel) =>
            {
                if (script.Reply is { } reply)
                {
                    await chats[chat].ReplyAsync(reply(Message(chat, k), chat, first + k), cancel);
                }

                await chats[chat].RotateIfDueAsync(cancel);
            },
            log, drain, stop);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}
