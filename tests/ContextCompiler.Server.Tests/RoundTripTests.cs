using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Tokenization;
using ContextCompiler.Engine.Assets;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Sessions;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ContextCompiler.Server.Tests;

/// <summary>
/// A server whose body limit fits 100 000-character strings in JSON (up to 12 bytes a character, escaped), over the same
/// kind of database as <see cref="ServerFactory"/>, with no practical limit of open sessions per user.
/// </summary>
public sealed class RoundTripServer : IDisposable
{
    private readonly ServerFactory _factory = new();

    public RoundTripServer() =>
        App = _factory.WithWebHostBuilder(b => b
            .UseSetting("ContextCompiler:MaxRequestBodyBytes", (4 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture))
            // Generated user ids repeat now and then; the open-session limit is not what these tests are about.
            .UseSetting("ContextCompiler:Sessions:MaxOpenSessionsPerUser", "1000000"));

    public WebApplicationFactory<ServerProgram> App { get; }

    public string DatabasePath => _factory.DatabasePath;

    public void Dispose()
    {
        _factory.Dispose();
        _factory.DeleteFolder();
    }
}

/// <summary>A generated string whose counterexample output shows its length and an escaped head and tail, not 100 000 characters.</summary>
public sealed record Text(string Value)
{
    public override string ToString() => $"{Value.Length} chars: \"{Escape(Value.Length <= 120 ? Value : Value[..80])}\"{(Value.Length <= 120 ? "" : $" … \"{Escape(Value[^20..])}\"")}";

    public static string Escape(string text) =>
        string.Concat(text.Select(c => c is >= ' ' and <= '~' ? c.ToString() : $"\\u{(int)c:X4}"));
}

/// <summary>
/// What a client stores comes back exactly, code unit for code unit: strings with NUL, lone surrogates, astral-plane
/// characters and 100 000 characters, through the session store (and a reopened database) and over HTTP; and what
/// cannot be bound to a .NET string over HTTP (a lone-surrogate escape, invalid UTF-8) is refused with a 400 before
/// anything is written.
/// </summary>
public sealed class RoundTripTests(RoundTripServer server) : IClassFixture<RoundTripServer>
{
    private const string Tenant = "roundtrip";
    private const int MaxChars = 100_000;
    private static readonly ITokenizer Tokenizer = OfflineAssets.Default.Tokenizer();

    // Enough cases to meet each kind of piece many times and a 100 000-character string several times; few enough to stay fast.
    private static readonly Config Cases = Config.QuickThrowOnFailure.WithMaxTest(30);
    private static readonly Config FewCases = Config.QuickThrowOnFailure.WithMaxTest(15);

    private static readonly string[] ValidPieces =
    [
        "\0", "\0\0", "😀", "𝄞", "\U0010FFFF", "\U00010000", "a", "wal ", "é", "日本", "\r\n", "\t", "\uFFFF", "\uFFFE", "\uFEFF", "\u2028",
        "\"", "\\", "</script>", "\u0001", "\u007F", "%00", "\\u0000",
    ];

    private static readonly string[] LoneSurrogates = ["\ud800", "\udbff", "\udc00", "\udfff"];

    // ---- Through the session store ----

    [Fact]
    public void Assistant_message_content_comes_back_identical_from_the_store_and_after_reopening()
    {
        var store = Store();
        Check(Cases, Texts(valid: false), text =>
        {
            var session = store.Create(Tenant, new NewSession());
            var written = Run(() => store.AddMessageAsync(Tenant, session.Id, MessageRoles.Assistant, text.Value, null));
            AssertSame(text.Value, written.Content, "the returned message");
            AssertSame(text.Value, store.Messages(Tenant, session.Id).Single().Content, "Messages");
            AssertSame(text.Value, store.Replay(Tenant, session.Id).Turns.Single().AssistantMessage?.Content, "Replay");
            AssertSame(text.Value, Reopened(s => s.Messages(Tenant, session.Id)).Single().Content, "Messages after reopening the database");
        });
    }

    [Fact]
    public void User_turn_message_comes_back_identical_from_the_store_and_after_reopening()
    {
        var store = Store();
        Check(FewCases, Texts(valid: false), text =>
        {
            var session = store.Create(Tenant, new NewSession());
            var turn = Run(() => Turns().TakeTurnAsync(Tenant, session.Id, new TurnRequest(text.Value, new SessionBudgets(ContextBudget: 50, HistoryBudget: 50))));
            AssertSame(text.Value, turn.UserMessage.Content, "the returned turn");
            AssertSame(text.Value, store.Messages(Tenant, session.Id).Single().Content, "Messages");
            AssertSame(text.Value, store.Replay(Tenant, session.Id).Turns.Single().UserMessage?.Content, "Replay");
            AssertSame(text.Value, Reopened(s => s.Replay(Tenant, session.Id)).Turns.Single().UserMessage?.Content, "Replay after reopening the database");
        });
    }

    [Fact]
    public void User_id_comes_back_identical_from_the_store_and_after_reopening()
    {
        var store = Store();
        Check(Cases, UserIds(valid: false), text =>
        {
            var session = store.Create(Tenant, new NewSession(UserId: text.Value));
            AssertSame(text.Value, session.UserId, "the created session");
            AssertSame(text.Value, store.Get(Tenant, session.Id).UserId, "Get");
            AssertSame(text.Value, store.Replay(Tenant, session.Id).Session.UserId, "Replay");
            AssertSame(text.Value, Reopened(s => s.Get(Tenant, session.Id)).UserId, "Get after reopening the database");
        });
    }

    // ---- Over HTTP ----

    [Fact]
    public void Assistant_message_content_comes_back_identical_over_http()
    {
        var client = Client();
        Check(Cases, Gen.Zip(Texts(valid: true), Gen.Elements(false, true)).ToArbitrary(), input =>
        {
            var (text, raw) = input;
            string id = Run(() => client.CreateSession());
            var created = Post(client, $"/v1/sessions/{id}/messages", Body(raw, new { role = "assistant", content = text.Value }));
            Assert.True(created.Status == HttpStatusCode.Created, created.Body.GetRawText());
            AssertSame(text.Value, created.Body.GetProperty("content").GetString(), "the 201 answer");
            var replay = Get(client, $"/v1/sessions/{id}/replay");
            AssertSame(text.Value, replay.GetProperty("turns")[0].GetProperty("assistantMessage").GetProperty("content").GetString(), "GET replay");
        });
    }

    [Fact]
    public void User_turn_message_comes_back_identical_over_http()
    {
        var client = Client();
        Check(FewCases, Gen.Zip(Texts(valid: true), Gen.Elements(false, true)).ToArbitrary(), input =>
        {
            var (text, raw) = input;
            string id = Run(() => client.CreateSession());
            var turn = Post(client, $"/v1/sessions/{id}/turns", Body(raw, new { message = text.Value, contextBudget = 50, historyBudget = 50 }));
            Assert.True(turn.Status == HttpStatusCode.OK, turn.Body.GetRawText());
            AssertSame(text.Value, turn.Body.GetProperty("userMessage").GetProperty("content").GetString(), "the turn's answer");
            var replay = Get(client, $"/v1/sessions/{id}/replay");
            AssertSame(text.Value, replay.GetProperty("turns")[0].GetProperty("userMessage").GetProperty("content").GetString(), "GET replay");
        });
    }

    [Fact]
    public void User_id_comes_back_identical_over_http()
    {
        var client = Client();
        Check(Cases, Gen.Zip(UserIds(valid: true), Gen.Elements(false, true)).ToArbitrary(), input =>
        {
            var (text, raw) = input;
            var created = Post(client, "/v1/sessions", Body(raw, new { userId = text.Value }));
            Assert.True(created.Status == HttpStatusCode.Created, created.Body.GetRawText());
            AssertSame(text.Value, created.Body.GetProperty("userId").GetString(), "the 201 answer");
            string id = created.Body.GetProperty("id").GetString()!;
            AssertSame(text.Value, Get(client, $"/v1/sessions/{id}").GetProperty("userId").GetString(), "GET session");
        });
    }

    [Fact]
    public void Metadata_json_comes_back_as_sent_over_http()
    {
        var client = Client();
        // A top-level null means no metadata, which is left out of answers; nulls inside are kept.
        Check(Cases, JsonValue(3).Where(json => json != "null").Select(json => new Text(json)), metadata =>
        {
            var sent = Encoding.UTF8.GetBytes($"{{\"metadata\":{metadata.Value}}}");
            var created = Post(client, "/v1/sessions", sent);
            Assert.True(created.Status == HttpStatusCode.Created, created.Body.GetRawText());
            string id = created.Body.GetProperty("id").GetString()!;
            using var expected = JsonDocument.Parse(metadata.Value);
            AssertSameJson(expected.RootElement, created.Body.GetProperty("metadata"), "session metadata in the 201 answer");
            AssertSameJson(expected.RootElement, Get(client, $"/v1/sessions/{id}").GetProperty("metadata"), "session metadata from GET");

            var message = Post(client, $"/v1/sessions/{id}/messages", Encoding.UTF8.GetBytes($"{{\"role\":\"assistant\",\"content\":\"x\",\"metadata\":{metadata.Value}}}"));
            Assert.True(message.Status == HttpStatusCode.Created, message.Body.GetRawText());
            AssertSameJson(expected.RootElement, message.Body.GetProperty("metadata"), "message metadata in the 201 answer");
            var replayed = Get(client, $"/v1/sessions/{id}/replay").GetProperty("turns")[0].GetProperty("assistantMessage");
            AssertSameJson(expected.RootElement, replayed.GetProperty("metadata"), "message metadata from GET replay");
        });
    }

    [Fact]
    public void A_string_that_is_not_valid_unicode_is_refused_with_a_400_that_writes_nothing()
    {
        var client = Client();
        string id = Run(() => client.CreateSession());
        Run(() => client.Say(id, "assistant", "before"));
        byte[] before = Run(() => client.GetByteArrayAsync($"/v1/sessions/{id}/replay"));
        var field = Gen.Elements(
            ("/v1/sessions/{id}/messages", "{\"role\":\"assistant\",\"content\":", "}"),
            ("/v1/sessions/{id}/turns", "{\"contextBudget\":50,\"historyBudget\":50,\"message\":", "}"),
            ("/v1/sessions", "{\"userId\":", "}"));
        Check(Cases, Gen.Zip(InvalidJsonStrings(), field).ToArbitrary(), input =>
        {
            var (text, (path, open, close)) = input;
            int sessions = Store().List("alpha", new SessionQuery(Limit: 1)).Total;
            var response = Post(client, path.Replace("{id}", id, StringComparison.Ordinal), Encoding.UTF8.GetBytes(open).Concat(text).Concat(Encoding.UTF8.GetBytes(close)).ToArray());
            Assert.True(response.Status == HttpStatusCode.BadRequest, $"{(int)response.Status}: {response.Body.GetRawText()}");
            Assert.Equal("application/problem+json", response.MediaType);
            Assert.Equal(400, response.Body.GetProperty("status").GetInt32());
            Assert.Equal(sessions, Store().List("alpha", new SessionQuery(Limit: 1)).Total);
            Assert.Equal(before, Run(() => client.GetByteArrayAsync($"/v1/sessions/{id}/replay")));
        });
    }

    [Fact]
    public void Metadata_holding_a_lone_surrogate_comes_back_exactly_or_is_refused_without_writing()
    {
        var client = Client();
        Check(Cases, MetadataWithLoneSurrogate().Select(json => new Text(json)), metadata =>
        {
            using var expected = JsonDocument.Parse(metadata.Value);
            int sessions = Store().List("alpha", new SessionQuery(Limit: 1)).Total;
            var created = Post(client, "/v1/sessions", Encoding.UTF8.GetBytes($"{{\"metadata\":{metadata.Value}}}"));
            if (created.Status == HttpStatusCode.BadRequest)
            {
                Assert.Equal("application/problem+json", created.MediaType);
                Assert.Equal(sessions, Store().List("alpha", new SessionQuery(Limit: 1)).Total);
            }
            else
            {
                Assert.True(created.Status == HttpStatusCode.Created, $"{(int)created.Status}: {created.Body.GetRawText()}");
                string sessionId = created.Body.GetProperty("id").GetString()!;
                AssertSameJson(expected.RootElement, Get(client, $"/v1/sessions/{sessionId}").GetProperty("metadata"), "session metadata from GET");
                Get(client, "/v1/sessions");
            }

            string id = Run(() => client.CreateSession());
            var message = Post(client, $"/v1/sessions/{id}/messages", Encoding.UTF8.GetBytes($"{{\"role\":\"assistant\",\"content\":\"x\",\"metadata\":{metadata.Value}}}"));
            if (message.Status == HttpStatusCode.BadRequest)
            {
                Assert.Equal("application/problem+json", message.MediaType);
                Assert.Equal(0, Get(client, $"/v1/sessions/{id}").GetProperty("messageCount").GetInt32());
            }
            else
            {
                Assert.True(message.Status == HttpStatusCode.Created, $"{(int)message.Status}: {message.Body.GetRawText()}");
                var replayed = Get(client, $"/v1/sessions/{id}/replay").GetProperty("turns")[0].GetProperty("assistantMessage");
                AssertSameJson(expected.RootElement, replayed.GetProperty("metadata"), "message metadata from GET replay");
            }
        });
    }

    // ---- Generators ----

    // Pieces joined: mostly short, sometimes past 512 UTF-8 bytes with the pieces after a run of 'a', sometimes exactly 100 000 characters.
    private static Gen<Text> Texts(bool valid)
    {
        var pieces = valid ? ValidPieces : [.. ValidPieces, .. LoneSurrogates, "\ud800\ud800", "\udc00\ud800"];
        var piece = Gen.Elements(pieces);
        return Gen.Frequency(
                (5, from n in Gen.Choose(1, 30) from ps in Gen.ArrayOf(piece, n) select string.Concat(ps)),
                (3, from a in Gen.Choose(505, 3_000) from n in Gen.Choose(1, 10) from ps in Gen.ArrayOf(piece, n) select new string('a', a) + string.Concat(ps)),
                (1, from n in Gen.Choose(1, 8) from ps in Gen.ArrayOf(piece, n) select Exactly(string.Concat(ps) + "b", MaxChars, valid)))
            .Where(s => !string.IsNullOrWhiteSpace(s))
            .Select(s => new Text(s));
    }

    // User ids are trimmed by design (blank means none), so generated ids neither start nor end with white space.
    private static Gen<Text> UserIds(bool valid) =>
        Texts(valid).Select(t => new Text("u" + t.Value + "u"));

    // JSON text of valid shape whose strings hold the pieces, escaped or raw, and whose numbers are spelt in ways a parser might normalise.
    private static Gen<string> JsonValue(int depth)
    {
        var text = from n in Gen.Choose(0, 6) from ps in Gen.ArrayOf(Gen.Elements(ValidPieces), n) from escape in Gen.Elements(false, true) select Quote(string.Concat(ps), escape);
        var number = Gen.Elements("0", "-0", "1.0", "1.50", "1e400", "-1e-400", "12345678901234567890", "1E+2", "0.1", "-12.5e3", "3.141592653589793238462643383279");
        var scalar = Gen.Frequency((3, text), (2, number), (1, Gen.Elements("true", "false", "null")));
        if (depth == 0)
        {
            return scalar;
        }

        var inner = JsonValue(depth - 1);
        var array = from n in Gen.Choose(0, 4) from items in Gen.ArrayOf(inner, n) select "[" + string.Join(",", items) + "]";
        var key = Gen.Frequency((2, Gen.Elements("\"a\"", "\"b\"", "\"a\"", "\"\"", "\"\\u0000\"", "\"😀\"")), (1, from n in Gen.Choose(0, 4) from ps in Gen.ArrayOf(Gen.Elements(ValidPieces), n) select Quote(string.Concat(ps), false)));
        var obj = from n in Gen.Choose(0, 4) from keys in Gen.ArrayOf(key, n) from values in Gen.ArrayOf(inner, n)
                  select "{" + string.Join(",", keys.Zip(values, (k, v) => k + ":" + v)) + "}";
        return Gen.Frequency((2, scalar), (1, array), (3, obj));
    }

    // Metadata with at least one string holding a lone-surrogate escape, alone, in an array, or beside other members.
    private static Gen<string> MetadataWithLoneSurrogate()
    {
        var lone = from before in Gen.Elements("", "a", "😀", "\0") from l in Gen.Elements(LoneSurrogates) from after in Gen.Elements("", "b", "\ud800")
                   select Quote(before + l + after, false);
        return Gen.Frequency(
            (1, lone),
            (1, lone.Select(l => $"[{l},1]")),
            (2, from l in lone from rest in JsonValue(2) select $"{{\"note\":{l},\"rest\":{rest}}}"));
    }

    // Bodies of JSON strings that no .NET string can hold faithfully: a lone-surrogate escape, or the same surrogate as raw (invalid) UTF-8 bytes.
    private static Gen<byte[]> InvalidJsonStrings() =>
        // The cut must not split a surrogate pair: a high half left at the end would pair with a low lone surrogate
        // put after it and make the text valid after all.
        from before in Texts(valid: true).Select(t => t.Value.Length > 2_000 ? t.Value[..(char.IsHighSurrogate(t.Value[1_999]) ? 1_999 : 2_000)] : t.Value)
        from lone in Gen.Elements(LoneSurrogates)
        from after in Gen.Elements("", "b", "😀", "\0")
        from raw in Gen.Elements(false, true)
        select raw
            ? Encoding.UTF8.GetBytes(Quote(before, true)[..^1]).Concat(Wtf8(lone)).Concat(Encoding.UTF8.GetBytes(Quote(after, true)[1..])).ToArray()
            : Encoding.UTF8.GetBytes(Quote(before + lone + after, true));

    // ---- Helpers ----

    private static void Check<T>(Config config, Gen<T> gen, Action<T> property) => Check(config, gen.ToArbitrary(), property);

    private static void Check<T>(Config config, Arbitrary<T> arbitrary, Action<T> property) => FsCheck.Check.One(config, Prop.ForAll(arbitrary, property));

    private SessionStore Store() => server.App.Services.GetRequiredService<SessionStore>();

    private TurnService Turns() => server.App.Services.GetRequiredService<TurnService>();

    // A new engine over the same file, with connections of its own, as after a restart.
    private T Reopened<T>(Func<SessionStore, T> read)
    {
        using var engine = ServerFactory.Engine(server.DatabasePath);
        return read(engine.GetRequiredService<SessionStore>());
    }

    private HttpClient Client()
    {
        var client = server.App.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", ServerFactory.AlphaKey);
        return client;
    }

    // The test bodies run inside FsCheck's synchronous runner; Task.Run keeps the awaits off xunit's synchronization context.
    private static T Run<T>(Func<Task<T>> action) => Task.Run(action).GetAwaiter().GetResult();

    private static void Run(Func<Task> action) => Task.Run(action).GetAwaiter().GetResult();

    private static (HttpStatusCode Status, string? MediaType, JsonElement Body) Post(HttpClient client, string path, byte[] body) => Run(async () =>
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await client.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text.Length == 0 ? "null" : text);
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, document.RootElement.Clone());
    });

    private static JsonElement Get(HttpClient client, string path) => Run(async () =>
    {
        using var response = await client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {text}");
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    });

    // Serialized by System.Text.Json: escaping every non-ASCII character, or writing them as raw UTF-8.
    private static byte[] Body(bool raw, object value) =>
        JsonSerializer.SerializeToUtf8Bytes(value, new JsonSerializerOptions { Encoder = raw ? JavaScriptEncoder.UnsafeRelaxedJsonEscaping : JavaScriptEncoder.Default });

    // A JSON string literal written by hand, so that lone surrogates can be escaped as \uXXXX.
    private static string Quote(string value, bool escapeAll)
    {
        var text = new StringBuilder("\"");
        foreach (char c in value)
        {
            text.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                < ' ' or >= '\ud800' and <= '\udfff' => $"\\u{(int)c:x4}",
                > '~' when escapeAll => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }

        return text.Append('"').ToString();
    }

    // A lone surrogate encoded as UTF-8 would encode a scalar value: three bytes that are not valid UTF-8.
    private static byte[] Wtf8(string lone)
    {
        int c = lone[0];
        return [(byte)(0xE0 | (c >> 12)), (byte)(0x80 | ((c >> 6) & 0x3F)), (byte)(0x80 | (c & 0x3F))];
    }

    private static string Exactly(string seed, int length, bool valid)
    {
        var text = new StringBuilder(length + seed.Length);
        while (text.Length < length)
        {
            text.Append(seed);
        }

        text.Length = length;
        if (valid && char.IsHighSurrogate(text[^1]))
        {
            // Cutting between the halves of a pair would leave a lone surrogate in a string meant to be valid.
            text[^1] = 'z';
        }

        return text.ToString();
    }

    private static void AssertSame(string expected, string? actual, string where)
    {
        if (actual is null)
        {
            Assert.Fail($"{where}: expected {new Text(expected)}, got null");
        }

        if (string.Equals(expected, actual, StringComparison.Ordinal) && expected.Length == actual.Length)
        {
            return;
        }

        int first = Enumerable.Range(0, Math.Min(expected.Length, actual.Length)).FirstOrDefault(i => expected[i] != actual[i], Math.Min(expected.Length, actual.Length));
        Assert.Fail($"{where}: expected {expected.Length} chars, got {actual.Length}; first difference at index {first}: " +
            $"expected {(first < expected.Length ? $"U+{(int)expected[first]:X4}" : "end")}, got {(first < actual.Length ? $"U+{(int)actual[first]:X4}" : "end")}. Expected {new Text(expected)}");
    }

    // Same JSON value: the same members in the same order (duplicates too), strings equal code unit for code unit, numbers spelt the same.
    private static void AssertSameJson(JsonElement expected, JsonElement actual, string where)
    {
        Assert.True(Same(expected, actual), $"{where}: sent {expected.GetRawText()}, got {actual.GetRawText()}");

        static bool Same(JsonElement a, JsonElement b) => a.ValueKind == b.ValueKind && a.ValueKind switch
        {
            JsonValueKind.Object => a.EnumerateObject().Count() == b.EnumerateObject().Count()
                && a.EnumerateObject().Zip(b.EnumerateObject()).All(p => p.First.Name == p.Second.Name && Same(p.First.Value, p.Second.Value)),
            JsonValueKind.Array => a.GetArrayLength() == b.GetArrayLength() && a.EnumerateArray().Zip(b.EnumerateArray()).All(p => Same(p.First, p.Second)),
            JsonValueKind.String => Unescape(a.GetRawText()) == Unescape(b.GetRawText()),
            JsonValueKind.Number => a.GetRawText() == b.GetRawText(),
            _ => true,
        };
    }

    // The code units of a JSON string literal, lone surrogates included (GetString refuses those).
    private static string Unescape(string literal)
    {
        var text = new StringBuilder();
        for (int i = 1; i < literal.Length - 1; i++)
        {
            if (literal[i] != '\\')
            {
                text.Append(literal[i]);
                continue;
            }

            char e = literal[++i];
            if (e == 'u')
            {
                text.Append((char)Convert.ToInt32(literal.Substring(i + 1, 4), 16));
                i += 4;
            }
            else
            {
                text.Append(e switch { 'n' => '\n', 't' => '\t', 'r' => '\r', 'b' => '\b', 'f' => '\f', _ => e });
            }
        }

        return text.ToString();
    }
}
