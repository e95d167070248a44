using ContextCompiler.Core.Render;
using ContextCompiler.Core.Retrieve;
using ContextCompiler.Core.Select;
using ContextCompiler.Core.Tokenization;

namespace ContextCompiler.Core.Pack;

/// <summary>The packer's result: the blocks in render order, the rendered text and its exact token count.</summary>
public sealed record PackResult(IReadOnlyList<PackedBlock> Blocks, IReadOnlyList<(PackedBlock Block, string Header, int Tokens)> Rendered, string Text, int TokenCount, string? Reason);

/// <summary>How blocks are ordered in the rendered text.</summary>
public enum WorkingSetOrder
{
    /// <summary>Best score first; ties by corpus, path and line.</summary>
    Score,

    /// <summary>By corpus, path and line, as the documents read.</summary>
    Document,
}

/// <summary>
/// Packs candidates, best first, into a token budget that covers the exact rendered text: headers, separators
/// and span text, all counted with the tokenizer. A candidate that does not fit is skipped and smaller ones are
/// still tried; a candidate next to or overlapping a packed block of the same artifact extends that block instead
/// of paying for another header; and the last room may take a line-boundary prefix of a span that mentions the query.
/// </summary>
public sealed class BudgetPacker(ITokenizer tokenizer)
{
    /// <summary>Packs <paramref name="ordered"/> into <paramref name="budget"/> tokens.</summary>
    public PackResult Pack(
        IReadOnlyList<Candidate> ordered, int budget, WorkingSetOrder order, bool allowTruncation, int minTruncatedTokens,
        IReadOnlyList<string> queryTerms, List<DroppedCandidate> dropped)
    {
        var blocks = new List<PackedBlock>();
        int used = 0;
        int smallestNeed = int.MaxValue;
        foreach (var candidate in ordered)
        {
            var span = candidate.Span;
            var lines = span.Text.Split('\n');
            var host = blocks.FirstOrDefault(b => b.Touches(span.Key.Corpus, span.Key.Path, span.Key.StartLine, span.EndLine));
            if (host is not null)
            {
                if (TryMerge(host, blocks.IndexOf(host) + 1, candidate, lines, budget, ref used))
                {
                    Coalesce(blocks, host, budget, ref used);
                    continue;
                }

                dropped.Add(new DroppedCandidate(span.Key, candidate.Score, "pack", DropReasons.OverBudget, "extending the adjacent block does not fit"));
                continue;
            }

            var block = new PackedBlock(span.Key.Corpus, span.Key.Path, span.Key.StartLine, lines, candidate.Score, truncated: false, span.Key)
            {
                TextTokens = CountText(lines),
            };
            int cost = HeaderTokens(blocks.Count + 1, block) + block.TextTokens.WithSeparator;
            smallestNeed = Math.Min(smallestNeed, HeaderTokens(1, block) + block.TextTokens.Alone);
            if (used + cost <= budget)
            {
                blocks.Add(block);
                used += cost;
                continue;
            }

            var prefix = allowTruncation ? TruncatedPrefix(candidate, lines, blocks.Count + 1, budget - used, minTruncatedTokens, queryTerms) : null;
            if (prefix is not null)
            {
                blocks.Add(prefix);
                used += HeaderTokens(blocks.Count, prefix) + prefix.TextTokens.WithSeparator;
                continue;
            }

            dropped.Add(new DroppedCandidate(span.Key, candidate.Score, "pack", DropReasons.OverBudget, $"needs {cost} tokens, {budget - used} left"));
        }

        return Render(blocks, budget, order, dropped, smallestNeed);
    }

    private bool TryMerge(PackedBlock host, int n, Candidate candidate, string[] lines, int budget, ref int used) =>
        TryJoin(host, n, candidate.Span.Key.StartLine, lines, 0, candidate.Score, [candidate.Span.Key], budget, ref used);

    // A span that filled the gap between two blocks of a page leaves the grown block touching the next one: join them, so
    // that no two citations of a page touch and the second header is not paid for. Small spans make this common.
    private void Coalesce(List<PackedBlock> blocks, PackedBlock host, int budget, ref int used)
    {
        while (blocks.FirstOrDefault(b => b != host && b.Touches(host.Corpus, host.Path, host.StartLine, host.EndLine)) is { } other)
        {
            int otherCost = HeaderTokens(blocks.IndexOf(other) + 1, other) + other.TextTokens.WithSeparator;
            if (!TryJoin(host, blocks.IndexOf(host) + 1, other.StartLine, other.Lines, otherCost, other.Score, other.Sources, budget, ref used))
            {
                return;
            }

            blocks.Remove(other);
        }
    }

    // Extends host (block n) by the lines from start that it lacks, when the joined block costs no more than the budget
    // allows; otherCost is what the joined lines cost until now (another block's header and text, or nothing).
    private bool TryJoin(
        PackedBlock host, int n, int start, string[] lines, int otherCost, double score, IEnumerable<SpanKey> sources, int budget, ref int used)
    {
        int first = Math.Min(host.StartLine, start);
        int last = Math.Max(host.EndLine, start + lines.Length - 1);
        var merged = new string[last - first + 1];
        for (int line = first; line <= last; line++)
        {
            merged[line - first] = line >= host.StartLine && line <= host.EndLine
                ? host.Lines[line - host.StartLine]
                : lines[line - start];
        }

        int before = HeaderTokens(n, host) + host.TextTokens.WithSeparator + otherCost;
        var tokens = CountText(merged);
        int after = tokenizer.CountTokens(WorkingSetFormat.Header(n, host.Corpus, host.Path, first, last)) + tokens.WithSeparator;
        if (used - before + after > budget)
        {
            return false;
        }

        used += after - before;
        host.StartLine = first;
        host.Lines = merged;
        host.TextTokens = tokens;
        host.Score = Math.Max(host.Score, score);
        host.Sources.AddRange(sources);
        return true;
    }

    private PackedBlock? TruncatedPrefix(Candidate candidate, string[] lines, int n, int room, int minTokens, IReadOnlyList<string> queryTerms)
    {
        var span = candidate.Span;
        int header = tokenizer.CountTokens(WorkingSetFormat.Header(n, span.Key.Corpus, span.Key.Path, span.Key.StartLine, span.EndLine));
        if (lines.Length < 2 || room - header < minTokens)
        {
            return null;
        }

        // The largest prefix that fits; counts grow with the prefix, and the final check below is exact.
        int low = 0, high = lines.Length - 1;
        while (low < high)
        {
            int mid = (low + high + 1) / 2;
            if (CountText(lines[..mid]).WithSeparator + header <= room)
            {
                low = mid;
            }
            else
            {
                high = mid - 1;
            }
        }

        while (low > 0 && string.IsNullOrWhiteSpace(lines[low - 1]))
        {
            low--;
        }

        if (low == 0)
        {
            return null;
        }

        var prefix = lines[..low];
        var tokens = CountText(prefix);
        var block = new PackedBlock(span.Key.Corpus, span.Key.Path, span.Key.StartLine, prefix, candidate.Score, truncated: true, span.Key) { TextTokens = tokens };
        bool fits = HeaderTokens(n, block) + tokens.WithSeparator <= room;
        bool servesQuery = tokens.Alone >= minTokens && QueryTerms.Mentions(block.Text, queryTerms);
        return fits && servesQuery ? block : null;
    }

    private PackResult Render(List<PackedBlock> blocks, int budget, WorkingSetOrder order, List<DroppedCandidate> dropped, int smallestNeed)
    {
        while (true)
        {
            var ordered = order == WorkingSetOrder.Document
                ? blocks.OrderBy(b => b.Corpus, StringComparer.Ordinal).ThenBy(b => b.Path, StringComparer.Ordinal).ThenBy(b => b.StartLine).ToList()
                : blocks.OrderByDescending(b => b.Score).ThenBy(b => b.Sources[0]).ToList();
            var rendered = ordered.Select((b, i) =>
            {
                var header = WorkingSetFormat.Header(i + 1, b.Corpus, b.Path, b.StartLine, b.EndLine);
                bool last = i == ordered.Count - 1;
                return (Block: b, Header: header, Tokens: tokenizer.CountTokens(header) + (last ? b.TextTokens.Alone : b.TextTokens.WithSeparator));
            }).ToList();
            var text = WorkingSetFormat.Join(rendered.Select(r => (r.Header, r.Block.Text)));
            int count = tokenizer.CountTokens(text);
            if (count <= budget)
            {
                string? reason = ordered.Count > 0 ? null
                    : smallestNeed == int.MaxValue ? "no span matched the query"
                    : $"the budget of {budget} tokens is too small: the smallest candidate needs {smallestNeed} tokens with its header";
                return new PackResult(ordered, rendered, text, count, reason);
            }

            // Renumbering for document order can lengthen a header; give up the weakest block rather than exceed the budget.
            var weakest = blocks.OrderBy(b => b.Score).ThenByDescending(b => b.Sources[0]).First();
            blocks.Remove(weakest);
            foreach (var source in weakest.Sources)
            {
                dropped.Add(new DroppedCandidate(source, weakest.Score, "pack", DropReasons.OverBudget, "removed after rendering exceeded the budget"));
            }
        }
    }

    private int HeaderTokens(int n, PackedBlock block) =>
        tokenizer.CountTokens(WorkingSetFormat.Header(n, block.Corpus, block.Path, block.StartLine, block.EndLine));

    private (int WithSeparator, int Alone) CountText(string[] lines)
    {
        var text = string.Join('\n', lines);
        return (tokenizer.CountTokens(text + WorkingSetFormat.Separator), tokenizer.CountTokens(text));
    }
}
