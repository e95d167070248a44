using System.Globalization;
using System.Xml.Linq;
using ContextCompiler.Core.Evaluate;

namespace ContextCompiler.Core.Tests.Evaluate;

public sealed class ReportRenderingTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static EvalReport Report() => new(
        "toy", "beir", 3, "default", [250, 500, 1000],
        [
            new StrategyReport("default", "defaults", 0.5, 0.75, 0.6,
                [new(250, 0.2, null, 0.9, 1, 1, 2), new(500, 0.5, null, 0.8, 2, 1, 2), new(1000, 1.0, null, 0.7, 3, 1, 2)]),
            new StrategyReport("bm25", "vectorWeight=0", 0.4, 0.7, 0.5,
                [new(250, 0.1, null, 0.9, 1, 1, 2), new(500, 0.3, null, 0.8, 2, 1, 2), new(1000, 0.6, null, 0.7, 3, 1, 2)]),
        ],
        10, 20, ["a note"]);

    [Fact]
    public void The_plot_is_valid_svg_with_one_polyline_and_legend_entry_per_strategy()
    {
        var svg = XDocument.Parse(RecallPlot.Render(Report()));

        var series = svg.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "series").ToList();
        Assert.Equal(["default", "bm25"], series.Select(g => (string?)g.Attribute("data-strategy")));
        Assert.All(series, g => Assert.Single(g.Elements(Svg + "polyline")));
        Assert.All(series, g => Assert.Equal(3, g.Elements(Svg + "circle").Count()));
        var texts = svg.Descendants(Svg + "text").Select(t => t.Value).ToList();
        Assert.Contains("token budget (log scale)", texts);
        Assert.Contains("evidence recall", texts);
        Assert.Contains("bm25", texts);
        Assert.Contains("500", texts);
        Assert.Contains("0.6", texts);
    }

    [Fact]
    public void Budgets_are_placed_on_a_log_scale_and_recall_from_zero_at_the_bottom_to_one_at_the_top()
    {
        var svg = XDocument.Parse(RecallPlot.Render(Report()));
        var points = svg.Descendants(Svg + "polyline").First().Attribute("points")!.Value.Split(' ')
            .Select(p => p.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToList();

        // 250 → 500 and 500 → 1000 are both a doubling, so equally far apart.
        Assert.Equal(points[1][0] - points[0][0], points[2][0] - points[1][0], 0.2);
        // Recall 1.0 sits at the top of the plot area, 0.2 lower down (larger y).
        Assert.True(points[0][1] > points[2][1]);
        Assert.Equal(50, points[2][1], 0.1);
    }

    [Fact]
    public void The_markdown_has_a_ranking_table_and_a_recall_by_budget_table()
    {
        var md = MarkdownReport.Render(Report());

        Assert.Contains("| default | `defaults` | 0.500 | 0.750 | 0.600 |", md);
        Assert.Contains("| strategy | 250 | 500 | 1000 |", md);
        Assert.Contains("| bm25 | 0.100 | 0.300 | 0.600 |", md);
        Assert.Contains("- a note", md);
        Assert.DoesNotContain("Answer-span recall", md);
    }

    [Fact]
    public void Dialog_reports_without_ranking_measures_have_no_ranking_table()
    {
        var report = Report() with { Strategies = [new StrategyReport("conversational", "x", null, null, null, [new(250, 0.5, null, 0.5, 1, 1, 1)])] };
        Assert.DoesNotContain("nDCG@10", MarkdownReport.Render(report));
    }
}
