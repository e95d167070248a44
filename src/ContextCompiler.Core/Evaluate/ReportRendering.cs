using System.Globalization;
using System.Net;
using System.Text;

namespace ContextCompiler.Core.Evaluate;

/// <summary>Renders an <see cref="EvalReport"/> as Markdown tables.</summary>
public static class MarkdownReport
{
    /// <summary>Title, notes, the ranking measures per strategy and, per budget, recall, utilisation, spans and latency.</summary>
    public static string Render(EvalReport report)
    {
        var md = new StringBuilder();
        md.Append(CultureInfo.InvariantCulture, $"# Evaluation: {report.Dataset} ({report.Format})\n\n");
        bool dialogs = report.Format is not ("beir" or "squad");
        md.Append(CultureInfo.InvariantCulture, $"{report.Queries} {(dialogs ? "turns" : "queries")} evaluated over {report.Documents} documents ({report.Spans} spans). ");
        md.Append(CultureInfo.InvariantCulture, $"Default strategy{(dialogs ? string.Empty : " (the run file's)")}: `{report.Default}`.\n\n");
        foreach (var note in report.Notes)
        {
            md.Append(CultureInfo.InvariantCulture, $"- {note}\n");
        }

        if (report.Strategies.Any(s => s.NdcgAt10 is not null))
        {
            md.Append("\n## Ranking (documents by their best span)\n\n| strategy | settings | nDCG@10 | Recall@100 | MRR@10 |\n|---|---|---:|---:|---:|\n");
            foreach (var s in report.Strategies)
            {
                md.Append(CultureInfo.InvariantCulture, $"| {s.Name} | `{s.Settings}` | {F(s.NdcgAt10)} | {F(s.RecallAt100)} | {F(s.MrrAt10)} |\n");
            }
        }

        Table(md, report, dialogs ? "Answer recall (turns citing a relevant page) vs budget" : "Evidence recall vs budget", b => F(b.EvidenceRecall));
        if (report.Strategies.Any(s => s.Budgets.Any(b => b.AnswerRecall is not null)))
        {
            Table(md, report, "Answer-span recall vs budget", b => F(b.AnswerRecall));
        }

        Table(md, report, "Utilisation (tokens used / budget)", b => F(b.Utilization));
        Table(md, report, "Spans per working set", b => b.Spans.ToString("0.0", CultureInfo.InvariantCulture));
        Table(md, report, dialogs ? "Turn latency p50 / p95 (ms)" : "Compile latency p50 / p95 (ms)", b => string.Create(CultureInfo.InvariantCulture, $"{b.P50Ms:0.0} / {b.P95Ms:0.0}"));
        return md.ToString();
    }

    private static void Table(StringBuilder md, EvalReport report, string title, Func<BudgetReport, string> cell)
    {
        md.Append(CultureInfo.InvariantCulture, $"\n## {title}\n\n| strategy |{string.Concat(report.Budgets.Select(b => $" {b} |"))}\n|---|{string.Concat(report.Budgets.Select(_ => "---:|"))}\n");
        foreach (var s in report.Strategies)
        {
            md.Append(CultureInfo.InvariantCulture, $"| {s.Name} |");
            foreach (var budget in report.Budgets)
            {
                var b = s.Budgets.FirstOrDefault(x => x.Budget == budget);
                md.Append(CultureInfo.InvariantCulture, $" {(b is null ? "–" : cell(b))} |");
            }

            md.Append('\n');
        }
    }

    private static string F(double? value) => value is { } v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "–";
}

/// <summary>
/// A hand-written SVG line chart of a recall against the budget: budgets on a log₂ x axis, recall 0..1 on the y axis,
/// one polyline with point markers per strategy and a legend, readable without the JSON.
/// </summary>
public static class RecallPlot
{
    private const int Width = 760, Height = 440;
    private const int Left = 70, Right = 200, Top = 50, Bottom = 60;

    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf", "#bcbd22"];

    /// <summary>The chart of <paramref name="recall"/> (by default the evidence recall) per strategy and budget.</summary>
    public static string Render(EvalReport report, string yLabel = "evidence recall", Func<BudgetReport, double?>? recall = null)
    {
        recall ??= b => b.EvidenceRecall;
        var budgets = report.Budgets;
        double minLog = Math.Log2(budgets.Min()), maxLog = Math.Log2(budgets.Max());
        if (maxLog - minLog < 1e-9)
        {
            (minLog, maxLog) = (minLog - 1, maxLog + 1);
        }

        double plotW = Width - Left - Right, plotH = Height - Top - Bottom;
        double X(int budget) => Left + ((Math.Log2(budget) - minLog) / (maxLog - minLog) * plotW);
        double Y(double value) => Top + ((1 - Math.Clamp(value, 0, 1)) * plotH);

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{Escape($"{report.Dataset}: {yLabel} vs token budget ({report.Queries} {(report.Format is "beir" or "squad" ? "queries" : "turns")})")}</text>\n");

        for (int i = 0; i <= 10; i += 2)
        {
            double v = i / 10.0, y = Y(v);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{N(y)}\" x2=\"{Left + plotW}\" y2=\"{N(y)}\" stroke=\"#e0e0e0\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 8}\" y=\"{N(y + 4)}\" text-anchor=\"end\">{v:0.0}</text>\n");
        }

        foreach (var budget in budgets)
        {
            double x = X(budget);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{N(x)}\" y1=\"{Top + plotH}\" x2=\"{N(x)}\" y2=\"{Top + plotH + 5}\" stroke=\"black\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{N(x)}\" y=\"{Top + plotH + 19}\" text-anchor=\"middle\">{budget}</text>\n");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Top + plotH}\" stroke=\"black\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Top + plotH}\" x2=\"{Left + plotW}\" y2=\"{Top + plotH}\" stroke=\"black\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{N(Left + (plotW / 2))}\" y=\"{Height - 15}\" text-anchor=\"middle\">token budget (log scale)</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"18\" y=\"{N(Top + (plotH / 2))}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {N(Top + (plotH / 2))})\">{Escape(yLabel)}</text>\n");

        for (int s = 0; s < report.Strategies.Count; s++)
        {
            var strategy = report.Strategies[s];
            string color = Colors[s % Colors.Length];
            var points = strategy.Budgets.Where(b => recall(b) is not null).OrderBy(b => b.Budget).Select(b => (X: X(b.Budget), Y: Y(recall(b)!.Value))).ToList();
            svg.Append(CultureInfo.InvariantCulture, $"<g class=\"series\" data-strategy=\"{Escape(strategy.Name)}\">\n");
            if (points.Count > 0)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(" ", points.Select(p => $"{N(p.X)},{N(p.Y)}"))}\"/>\n");
                foreach (var p in points)
                {
                    svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{N(p.X)}\" cy=\"{N(p.Y)}\" r=\"3\" fill=\"{color}\"/>\n");
                }
            }

            double ly = Top + 10 + (s * 20);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Width - Right + 15}\" y1=\"{N(ly)}\" x2=\"{Width - Right + 40}\" y2=\"{N(ly)}\" stroke=\"{color}\" stroke-width=\"2\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width - Right + 46}\" y=\"{N(ly + 4)}\">{Escape(strategy.Name)}</text>\n");
            svg.Append("</g>\n");
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static string N(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
