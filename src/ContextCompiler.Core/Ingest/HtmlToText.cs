using System.Text;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace ContextCompiler.Core.Ingest;

/// <summary>
/// Converts an HTML page to Markdown-like text that keeps its headings (as <c>#</c> lines), paragraphs,
/// list items and preformatted blocks (as fences), so the Markdown chunker can cut it by section.
/// Citations of an HTML artifact refer to the lines of this text, which is what the index stores.
/// </summary>
public static class HtmlToText
{
    private static readonly HashSet<string> Skipped = new(StringComparer.OrdinalIgnoreCase)
    {
        "script", "style", "noscript", "template", "svg", "head", "nav", "iframe", "object", "form", "button",
    };

    private static readonly HashSet<string> BlockElements = new(StringComparer.OrdinalIgnoreCase)
    {
        "p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote", "table", "tr",
        "ul", "ol", "dl", "dt", "dd", "figure", "figcaption", "hr", "br", "body", "html", "address", "details", "summary",
    };

    /// <summary>Converts <paramref name="html"/> to text with <c>\n</c> line ends.</summary>
    public static string Convert(string html)
    {
        var document = new HtmlParser().ParseDocument(html);
        var output = new StringBuilder();
        var title = document.Title?.Trim();
        bool hasH1 = document.QuerySelector("h1") is not null;
        if (!hasH1 && !string.IsNullOrEmpty(title))
        {
            output.Append("# ").Append(Collapse(title)).Append("\n\n");
        }

        var inline = new StringBuilder();
        Walk(document.Body ?? (INode)document.DocumentElement, output, inline);
        Flush(output, inline);
        return Tidy(output.ToString());
    }

    private static void Walk(INode node, StringBuilder output, StringBuilder inline)
    {
        foreach (var child in node.ChildNodes)
        {
            if (child is IText text)
            {
                inline.Append(text.Data);
                continue;
            }

            if (child is not IElement element || Skipped.Contains(element.LocalName))
            {
                continue;
            }

            string name = element.LocalName;
            if (name.Length == 2 && name[0] == 'h' && name[1] is >= '1' and <= '6')
            {
                Flush(output, inline);
                var heading = Collapse(element.TextContent);
                if (heading.Length > 0)
                {
                    output.Append('#', name[1] - '0').Append(' ').Append(heading).Append("\n\n");
                }
            }
            else if (name == "pre")
            {
                Flush(output, inline);
                output.Append("```\n").Append(element.TextContent.Replace("\r\n", "\n").Trim('\n')).Append("\n```\n\n");
            }
            else if (name == "li")
            {
                Flush(output, inline);
                inline.Append("- ");
                Walk(element, output, inline);
                Flush(output, inline, paragraph: false);
            }
            else if (name is "td" or "th")
            {
                Walk(element, output, inline);
                inline.Append(" | ");
            }
            else if (BlockElements.Contains(name))
            {
                Flush(output, inline);
                Walk(element, output, inline);
                Flush(output, inline);
            }
            else
            {
                Walk(element, output, inline);
            }
        }
    }

    private static void Flush(StringBuilder output, StringBuilder inline, bool paragraph = true)
    {
        var text = Collapse(inline.ToString()).TrimEnd('|', ' ');
        inline.Clear();
        if (text.Length == 0 || text == "-")
        {
            return;
        }

        output.Append(text).Append(paragraph ? "\n\n" : "\n");
    }

    private static string Collapse(string text)
    {
        var builder = new StringBuilder(text.Length);
        bool space = false;
        foreach (char c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                space = builder.Length > 0;
                continue;
            }

            if (space)
            {
                builder.Append(' ');
                space = false;
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    // At most one blank line in a row, and exactly one newline at the end.
    private static string Tidy(string text)
    {
        var lines = text.Split('\n');
        var builder = new StringBuilder(text.Length);
        bool blank = true;
        foreach (var line in lines)
        {
            var trimmed = line.TrimEnd();
            if (trimmed.Length == 0)
            {
                if (!blank)
                {
                    builder.Append('\n');
                }

                blank = true;
                continue;
            }

            builder.Append(trimmed).Append('\n');
            blank = false;
        }

        return builder.ToString().TrimEnd('\n') + "\n";
    }
}
