using ContextCompiler.Core.Tokenization;

namespace ContextCompiler.Core.Ingest;

/// <summary>
/// Cuts an artifact's content into spans along its structure: Markdown headings, paragraphs and code
/// fences; blank lines and top-level declarations in code. Spans are whole lines, at most
/// <see cref="ChunkingOptions.MaxTokens"/> tokens by exact count (a single longer line is a span of its own).
/// </summary>
public sealed class Chunker
{
    private readonly ITokenizer _tokenizer;
    private readonly ChunkingOptions _options;

    /// <summary>Creates a chunker that measures spans with <paramref name="tokenizer"/>.</summary>
    public Chunker(ITokenizer tokenizer, ChunkingOptions options)
    {
        options.Validate();
        _tokenizer = tokenizer;
        _options = options;
    }

    /// <summary>The options in force.</summary>
    public ChunkingOptions Options => _options;

    /// <summary>Splits <paramref name="content"/> (with <c>\n</c> line ends) into spans, in line order.</summary>
    public IReadOnlyList<Chunk> Split(string content, SourceKind kind)
    {
        var lines = LineIndex.Of(content);
        bool markdown = kind is SourceKind.Markdown or SourceKind.Html;
        var blocks = kind switch
        {
            SourceKind.Markdown or SourceKind.Html => BlockSplitter.Markdown(lines),
            SourceKind.Code => BlockSplitter.Code(lines),
            _ => BlockSplitter.Paragraphs(lines),
        };
        var headings = markdown ? HeadingTrail.PerLine(lines) : null;
        return new Packer(this, lines, headings).Pack(blocks);
    }

    private int Count(LineIndex lines, int first, int last) => _tokenizer.CountTokens(lines.Range(first, last));

    /// <summary>Greedy packing of blocks into spans, with size cuts inside blocks that are too large.</summary>
    private sealed class Packer(Chunker owner, LineIndex lines, string[]? headings)
    {
        private readonly List<Chunk> _chunks = [];
        private int Max => owner._options.MaxTokens;

        public List<Chunk> Pack(IReadOnlyList<Block> blocks)
        {
            int start = -1, end = -1;
            bool headingOnly = false;
            foreach (var block in blocks)
            {
                // A heading opens a span, unless the open span holds only headings (a title right above a section).
                if (block.IsHeading && start >= 0 && !headingOnly)
                {
                    Emit(start, end);
                    start = -1;
                }

                if (start < 0)
                {
                    (start, end, headingOnly) = (block.Start, block.End, block.IsHeading);
                }
                else if (owner.Count(lines, start, block.End) <= Max)
                {
                    end = block.End;
                    headingOnly &= block.IsHeading;
                }
                else if (headingOnly)
                {
                    // A heading stays with the start of its section; the size cut below splits the rest.
                    end = block.End;
                    headingOnly = false;
                }
                else
                {
                    Emit(start, end);
                    int overlapped = OverlapStart(start, end);
                    start = overlapped <= end && owner.Count(lines, overlapped, block.End) <= Max ? overlapped : block.Start;
                    end = block.End;
                    headingOnly = block.IsHeading;
                }

                while (true)
                {
                    int cut = LargestFittingEnd(start, end);
                    if (cut == end)
                    {
                        break;
                    }

                    Emit(start, cut);
                    if (cut >= end)
                    {
                        // A single line longer than the maximum was the whole remainder.
                        start = -1;
                        break;
                    }

                    int next = OverlapStart(start, cut);
                    start = next <= cut ? next : cut + 1;
                    while (start < end && lines.IsBlank(start))
                    {
                        start++;
                    }

                    headingOnly = false;
                }
            }

            if (start >= 0)
            {
                Emit(start, end);
            }

            return _chunks;
        }

        /// <summary>
        /// The last line that keeps <c>start..line</c> within the budget (<paramref name="end"/> when all of it fits;
        /// <paramref name="start"/> when even one line is too long). Galloping, then bisecting, keeps the cost
        /// proportional to the span found rather than to a huge block.
        /// </summary>
        private int LargestFittingEnd(int start, int end)
        {
            int good = start - 1, bad = end + 1, step = 1;
            while (good < end)
            {
                int probe = Math.Min(end, good + step);
                if (owner.Count(lines, start, probe) <= Max)
                {
                    good = probe;
                    step *= 2;
                }
                else
                {
                    bad = probe;
                    break;
                }
            }

            if (good == end)
            {
                return end;
            }

            while (bad - good > 1)
            {
                int mid = (good + bad) / 2;
                if (owner.Count(lines, start, mid) <= Max)
                {
                    good = mid;
                }
                else
                {
                    bad = mid;
                }
            }

            return Math.Max(good, start);
        }

        /// <summary>The first line of the overlap repeated after a size cut at <paramref name="end"/>; end + 1 when none.</summary>
        private int OverlapStart(int start, int end)
        {
            int overlap = owner._options.OverlapTokens;
            int first = end + 1;
            if (overlap == 0)
            {
                return first;
            }

            for (int s = end; s > start; s--)
            {
                if (owner.Count(lines, s, end) > overlap)
                {
                    break;
                }

                first = s;
            }

            return first;
        }

        private void Emit(int first, int last)
        {
            while (first <= last && lines.IsBlank(first))
            {
                first++;
            }

            while (last >= first && lines.IsBlank(last))
            {
                last--;
            }

            if (first > last)
            {
                return;
            }

            var text = lines.Range(first, last);
            _chunks.Add(new Chunk(first + 1, last + 1, headings?[first] ?? string.Empty, text.ToString(), owner._tokenizer.CountTokens(text)));
        }
    }
}
