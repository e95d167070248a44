using System.Text;

namespace ContextCompiler.Benchmarks.Quick;

/// <summary>A GitHub-flavoured Markdown table; columns after the first are right-aligned (they hold numbers).</summary>
internal sealed class MarkdownTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public MarkdownTable Row(params object[] cells)
    {
        _rows.Add(Cells(cells));
        return this;
    }

    public override string ToString()
    {
        var text = new StringBuilder(Header());
        foreach (var row in _rows)
        {
            text.AppendLine(Join(row));
        }

        return text.ToString();
    }

    /// <summary>The header and separator lines, for a table printed a row at a time as results come in.</summary>
    public string Header()
    {
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", headers).AppendLine(" |");
        text.Append("|").AppendJoin("|", headers.Select((_, i) => i == 0 ? "---" : "---:")).AppendLine("|");
        return text.ToString();
    }

    /// <summary>One row's line, formatted as <see cref="Row"/> formats it, without keeping it.</summary>
    public string Line(params object[] cells) => Join(Cells(cells));

    private string[] Cells(object[] cells)
    {
        if (cells.Length != headers.Length)
        {
            throw new ArgumentException($"Expected {headers.Length} cells, got {cells.Length}.", nameof(cells));
        }

        return cells.Select(Format).ToArray();
    }

    private static string Join(string[] row) => "| " + string.Join(" | ", row.Select(c => c.Replace("|", "\\|", StringComparison.Ordinal))) + " |";

    /// <summary>Numbers with three significant-ish digits: 1234 → "1,234", 12.3456 → "12.35", 0.01234 → "0.0123".</summary>
    public static string Number(double value) => value switch
    {
        double.NaN => "n/a",
        _ when Math.Abs(value) >= 1000 => value.ToString("N0"),
        _ when Math.Abs(value) >= 100 => value.ToString("F1"),
        _ when Math.Abs(value) >= 1 => value.ToString("F2"),
        _ when value == 0 => "0",
        _ => value.ToString("G3"),
    };

    private static string Format(object cell) => cell switch
    {
        double d => Number(d),
        float f => Number(f),
        int i => i.ToString("N0"),
        long l => l.ToString("N0"),
        _ => cell.ToString() ?? string.Empty,
    };
}
