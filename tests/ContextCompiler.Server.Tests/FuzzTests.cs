using System.Text;
using Xunit.Abstractions;

namespace ContextCompiler.Server.Tests;

/// <summary>
/// Properties of one fuzzing campaign (<see cref="FuzzCampaign"/>): no request gets a 5xx, every error is a problem,
/// a refused request writes nothing, and a session that existed before replays byte for byte after.
/// </summary>
public sealed class FuzzTests(FuzzCampaign campaign, ITestOutputHelper output) : IClassFixture<FuzzCampaign>
{
    // Enough distinct examples to see each kind of failure, few enough to read.
    private const int Shown = 12;

    [Fact]
    public void Fuzzed_requests_never_get_a_5xx()
    {
        output.WriteLine(campaign.Summary);
        Assert.True(campaign.Exchanges.Count > 0);
        Assert.True(!campaign.Exchanges.Any(e => e.IsServerError), Report("answered 5xx", campaign.Exchanges.Where(e => e.IsServerError)));
    }

    [Fact]
    public void Every_fuzzed_error_is_a_problem_with_its_status_and_a_detail()
    {
        output.WriteLine(campaign.Summary);
        var bad = campaign.Exchanges.Where(e => e.Status is >= 400 && !e.IsProblem).ToList();
        Assert.True(bad.Count == 0, Report("errors that are not application/problem+json with a matching status and a detail", bad));
    }

    [Fact]
    public void A_fuzzed_request_that_is_refused_writes_nothing()
    {
        output.WriteLine(campaign.Summary);
        var wrote = campaign.Exchanges.Where(e => e.Wrote).ToList();
        Assert.True(wrote.Count == 0, Report("refused requests after which the database had changed", wrote));
    }

    [Fact]
    public void A_session_made_before_the_fuzzing_replays_byte_identically_after()
    {
        output.WriteLine(campaign.Summary);
        Assert.Equal(campaign.WitnessBefore.Select(s => s.Path), campaign.WitnessAfter.Select(s => s.Path));
        for (int i = 0; i < campaign.WitnessBefore.Count; i++)
        {
            var (path, before) = campaign.WitnessBefore[i];
            var after = campaign.WitnessAfter[i].Body;
            Assert.True(before.AsSpan().SequenceEqual(after),
                $"{path} changed (seed {campaign.Seed}):\nbefore: {Encoding.UTF8.GetString(before)}\nafter:  {Encoding.UTF8.GetString(after)}");
        }
    }

    // Failures grouped by what went wrong where; the smallest request of each group is the reproduction shown.
    private string Report(string what, IEnumerable<FuzzExchange> failures)
    {
        var groups = failures
            .GroupBy(e => (e.Request.Method, e.Request.Path, e.Status, e.MediaType))
            .Select(g => (Count: g.Count(), Example: g.MinBy(e => e.Sent.Length)!))
            .OrderByDescending(g => g.Count)
            .ToList();
        var text = new StringBuilder($"{groups.Sum(g => g.Count)} {what} (seed {campaign.Seed}; CONTEXTC_FUZZ_SEED={campaign.Seed} sends the same requests). ");
        text.Append(campaign.Summary).Append('\n');
        foreach (var (count, example) in groups.Take(Shown))
        {
            text.Append($"  ×{count}: {example}\n");
        }

        if (groups.Count > Shown)
        {
            text.Append($"  … and {groups.Count - Shown} more kinds\n");
        }

        return text.ToString();
    }
}
