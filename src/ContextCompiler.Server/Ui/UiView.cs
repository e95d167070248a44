using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.RegularExpressions;
using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Render;
using ContextCompiler.Engine.Sessions;

namespace ContextCompiler.Server.Ui;

/// <summary>One piece of an assistant reply: text, or a <c>[n]</c> marker that is known or unknown.</summary>
public sealed record ReplySegment(string Text, int? Marker = null, bool Unknown = false);

/// <summary>What the pages compute from stored sessions and working sets.</summary>
public static partial class UiView
{
    /// <summary>The tenant the request was signed in as.</summary>
    public static string Tenant(ClaimsPrincipal? user) =>
        user?.FindFirst(ApiKeyAuthenticationHandler.TenantClaim)?.Value ?? throw new InvalidOperationException("The request was not signed in.");

    /// <summary>
    /// The session's user turns numbered 1, 2, 3… as the pages name them (<c>turn-2</c>, <c>t2-c1</c>, <c>turns/2/why</c>),
    /// which is not the user message's sequence number (replies and other messages come between).
    /// </summary>
    public static IReadOnlyList<(int Number, ReplayTurn Turn, Message User)> UserTurns(SessionReplay replay)
    {
        var turns = new List<(int, ReplayTurn, Message)>();
        foreach (var turn in replay.Turns)
        {
            if (turn.UserMessage is { } user)
            {
                turns.Add((turns.Count + 1, turn, user));
            }
        }

        return turns;
    }

    /// <summary>A stored working set, read back.</summary>
    public static WorkingSet Read(RawJson json) =>
        JsonSerializer.Deserialize<WorkingSet>(json.Json, SessionJson.Options) ?? throw new InvalidDataException("A stored working set is null.");

    /// <summary>
    /// The lines each citation shows in the working set's text, by citation number: the text between its
    /// <c>[n] corpus/path:Lstart-Lend</c> header and the next block.
    /// </summary>
    public static IReadOnlyDictionary<int, string> CitedLines(WorkingSet workingSet)
    {
        var text = workingSet.Text;
        var found = new List<(int N, int Start, int HeaderStart)>();
        int from = 0;
        foreach (var c in workingSet.Citations.OrderBy(c => c.N))
        {
            string header = WorkingSetFormat.Header(c.N, c.Corpus, c.Path, c.StartLine, c.EndLine);
            int at = text.IndexOf(header, from, StringComparison.Ordinal);
            if (at < 0)
            {
                continue;
            }

            found.Add((c.N, at + header.Length, at));
            from = at + header.Length;
        }

        var lines = new Dictionary<int, string>();
        for (int i = 0; i < found.Count; i++)
        {
            int end = i + 1 < found.Count ? found[i + 1].HeaderStart : text.Length;
            string block = text[found[i].Start..end];
            if (i + 1 < found.Count && block.EndsWith(WorkingSetFormat.Separator, StringComparison.Ordinal))
            {
                block = block[..^WorkingSetFormat.Separator.Length];
            }

            lines[found[i].N] = block;
        }

        return lines;
    }

    /// <summary>
    /// The reply cut at its <c>[n]</c> markers (groups such as <c>[1, 2]</c> give one marker per number). A marker is
    /// unknown when the stored citation check says so, or, without a check, when the working set has no such citation.
    /// </summary>
    public static IReadOnlyList<ReplySegment> Reply(string content, IReadOnlyCollection<int> citations, IReadOnlyList<int>? unknown)
    {
        var segments = new List<ReplySegment>();
        int at = 0;
        foreach (Match match in MarkerGroup().Matches(content))
        {
            if (match.Index > at)
            {
                segments.Add(new ReplySegment(content[at..match.Index]));
            }

            foreach (var part in match.Groups[1].Value.Split(','))
            {
                int n = int.Parse(part.Trim(), CultureInfo.InvariantCulture);
                bool isUnknown = unknown is not null ? unknown.Contains(n) : !citations.Contains(n);
                segments.Add(new ReplySegment($"[{n}]", n, isUnknown));
            }

            at = match.Index + match.Length;
        }

        if (at < content.Length)
        {
            segments.Add(new ReplySegment(content[at..]));
        }

        return segments;
    }

    /// <summary>A link to a document's page, each path segment escaped, at <paramref name="line"/>.</summary>
    public static string DocumentHref(string corpus, string path, int? line = null) =>
        $"/ui/corpora/{Uri.EscapeDataString(corpus)}/documents/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}" + (line is { } l ? $"#L{l}" : "");

    /// <summary>A time as people read it here: UTC to the second.</summary>
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>A score with four decimals, or a dash for none.</summary>
    public static string Score(double? score) => score is { } s ? s.ToString("0.0000", CultureInfo.InvariantCulture) : "—";

    /// <summary>A whole number in invariant form, or a dash for none.</summary>
    public static string Number(long? n) => n is { } v ? v.ToString(CultureInfo.InvariantCulture) : "—";

    [GeneratedRegex(@"\[(\d{1,4}(?:\s*,\s*\d{1,4})*)\]")]
    private static partial Regex MarkerGroup();
}
