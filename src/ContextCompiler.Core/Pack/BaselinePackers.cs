using ContextCompiler.Core.Render;
using ContextCompiler.Core.Select;
using ContextCompiler.Core.Tokenization;

namespace ContextCompiler.Core.Pack;

/// <summary>
/// The packing strategies other systems use, kept so that evaluations can compare them with <see cref="BudgetPacker"/>
/// under the same retrieval and rendering. Neither merges neighbours or fills leftover room.
/// </summary>
public static class BaselinePackers
{
    /// <summary>
    /// Kernel Memory's way: take spans in score order and stop at the first one that does not fit.
    /// The budget is still counted exactly on the rendered text.
    /// </summary>
    public static PackResult GreedyStop(ITokenizer tokenizer, IReadOnlyList<Candidate> ordered, int budget, List<DroppedCandidate> dropped)
    {
        var rendered = new List<(PackedBlock Block, string Header, int Tokens)>();
        string text = string.Empty;
        int count = 0;
        bool stopped = false;
        foreach (var candidate in ordered)
        {
            var block = Block(candidate);
            if (!stopped)
            {
                var header = WorkingSetFormat.Header(rendered.Count + 1, block.Corpus, block.Path, block.StartLine, block.EndLine);
                var next = text.Length == 0 ? header + block.Text : text + WorkingSetFormat.Separator + header + block.Text;
                int nextCount = tokenizer.CountTokens(next);
                if (nextCount <= budget)
                {
                    rendered.Add((block, header, nextCount - count));
                    (text, count) = (next, nextCount);
                    continue;
                }

                stopped = true;
            }

            dropped.Add(new DroppedCandidate(candidate.Key, candidate.Score, "pack", DropReasons.OverBudget, "greedy-stop: packing stopped at the first span that did not fit"));
        }

        return Result(rendered, text, count, budget);
    }

    /// <summary>
    /// The common default: render the top <paramref name="k"/> spans whole, then cut the text to the budget,
    /// wherever the cut falls. Blocks whose header is cut away are dropped; a block cut inside is marked truncated.
    /// </summary>
    public static PackResult TopKThenTruncate(ITokenizer tokenizer, IReadOnlyList<Candidate> ordered, int budget, int k, List<DroppedCandidate> dropped)
    {
        var top = ordered.Take(k).Select((c, i) => (Candidate: c, Block: Block(c), N: i + 1)).ToList();
        foreach (var rest in ordered.Skip(k))
        {
            dropped.Add(new DroppedCandidate(rest.Key, rest.Score, "pack", DropReasons.OverBudget, $"topk-truncate: below the top {k}"));
        }

        var full = WorkingSetFormat.Join(top.Select(t => (WorkingSetFormat.Header(t.N, t.Block.Corpus, t.Block.Path, t.Block.StartLine, t.Block.EndLine), t.Block.Text)));
        string text = LongestPrefixWithin(tokenizer, full, budget);
        var rendered = new List<(PackedBlock Block, string Header, int Tokens)>();
        int offset = 0, previous = 0;
        foreach (var (candidate, block, n) in top)
        {
            var header = WorkingSetFormat.Header(n, block.Corpus, block.Path, block.StartLine, block.EndLine);
            int start = offset + (n == 1 ? 0 : WorkingSetFormat.Separator.Length);
            if (start + header.Length > text.Length)
            {
                dropped.Add(new DroppedCandidate(candidate.Key, candidate.Score, "pack", DropReasons.OverBudget, "topk-truncate: cut off by truncation"));
                continue;
            }

            int end = Math.Min(text.Length, start + header.Length + block.Text.Length);
            var kept = text[(start + header.Length)..end];
            var keptLines = kept.Split('\n');
            var shown = new PackedBlock(block.Corpus, block.Path, block.StartLine, keptLines, block.Score, truncated: kept.Length < block.Text.Length, candidate.Key);
            int tokens = tokenizer.CountTokens(text.AsSpan(0, end));
            rendered.Add((shown, header, tokens - previous));
            previous = tokens;
            offset = end;
        }

        return Result(rendered, text, tokenizer.CountTokens(text), budget);
    }

    private static PackedBlock Block(Candidate candidate) =>
        new(candidate.Key.Corpus, candidate.Key.Path, candidate.Key.StartLine, candidate.Span.Text.Split('\n'), candidate.Score, truncated: false, candidate.Key);

    private static PackResult Result(List<(PackedBlock Block, string Header, int Tokens)> rendered, string text, int count, int budget) =>
        new(rendered.Select(r => r.Block).ToList(), rendered, text, count,
            rendered.Count > 0 ? null : $"no span fits the budget of {budget} tokens with this packing");

    // Token counts grow with the prefix (up to BPE's small wobbles), so bisect on characters and verify exactly.
    private static string LongestPrefixWithin(ITokenizer tokenizer, string text, int budget)
    {
        if (tokenizer.CountTokens(text) <= budget)
        {
            return text;
        }

        int low = 0, high = text.Length;
        while (low < high)
        {
            int mid = (low + high + 1) / 2;
            if (tokenizer.CountTokens(text.AsSpan(0, mid)) <= budget)
            {
                low = mid;
            }
            else
            {
                high = mid - 1;
            }
        }

        while (low > 0 && (char.IsLowSurrogate(text[low - 1]) || tokenizer.CountTokens(text.AsSpan(0, low)) > budget))
        {
            low--;
        }

        return text[..low];
    }
}
