using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;

namespace ContextCompiler.Core.Tokenization;

/// <summary>
/// Exact tiktoken BPE tokenizer for <c>o200k_base</c> and <c>cl100k_base</c>: counts and ids equal
/// js-tiktoken 1.0.21's <c>encode(text, [], [])</c>, so special-token strings such as
/// <c>&lt;|endoftext|&gt;</c> are ordinary text. Immutable after loading and safe to share between threads.
/// </summary>
public sealed class TiktokenTokenizer : ITokenizer
{
    /// <summary>The encoding of GPT-4o and later models; the default.</summary>
    public const string O200kBase = "o200k_base";

    /// <summary>The encoding of GPT-4 and GPT-3.5-turbo.</summary>
    public const string Cl100kBase = "cl100k_base";

    // Pieces up to this many UTF-16 units are encoded into a stack buffer; longer ones rent from the pool.
    private const int StackChars = 256;

    private static readonly Dictionary<string, int> ExpectedRankCounts = new(StringComparer.Ordinal)
    {
        [O200kBase] = 199_998,
        [Cl100kBase] = 100_256,
    };

    private readonly BpeRanks _ranks;
    private readonly bool _o200k;

    private TiktokenTokenizer(BpeRanks ranks, string name)
    {
        _ranks = ranks;
        Name = name;
        _o200k = name == O200kBase;
    }

    /// <summary>Encodings this class can load.</summary>
    public static IReadOnlyList<string> SupportedEncodings { get; } = [O200kBase, Cl100kBase];

    /// <inheritdoc />
    public string Name { get; }

    internal BpeRanks Ranks => _ranks;

    /// <summary>File name of an encoding's ranks in the assets folder, for example <c>o200k_base.tiktoken.bin</c>.</summary>
    /// <exception cref="ArgumentException">The encoding is not supported.</exception>
    public static string AssetFileName(string encodingName) => $"{CheckEncoding(encodingName)}.tiktoken.bin";

    /// <summary>
    /// Loads an encoding from its <c>*.tiktoken.bin</c> ranks (the format written by assets/prepare.mjs).
    /// </summary>
    /// <param name="ranks">The ranks file; read to its end, not disposed.</param>
    /// <param name="encodingName"><c>o200k_base</c> or <c>cl100k_base</c>; it selects the split pattern.</param>
    /// <exception cref="ArgumentException">The encoding is not supported.</exception>
    /// <exception cref="InvalidDataException">The stream is not a ranks file of that encoding.</exception>
    public static TiktokenTokenizer Load(Stream ranks, string encodingName = O200kBase)
    {
        ArgumentNullException.ThrowIfNull(ranks);
        CheckEncoding(encodingName);
        var table = BpeRanks.Read(ranks);
        int expected = ExpectedRankCounts[encodingName];
        if (table.Count != expected)
        {
            throw new InvalidDataException(
                $"The ranks hold {table.Count} tokens but {encodingName} has {expected}; is this the file of another encoding?");
        }
        return new TiktokenTokenizer(table, encodingName);
    }

    /// <inheritdoc />
    public int CountTokens(ReadOnlySpan<char> text) => Tokenize(text, null);

    /// <inheritdoc />
    public IReadOnlyList<int> Encode(ReadOnlySpan<char> text)
    {
        var ids = new List<int>(text.Length / 4 + 4);
        Tokenize(text, ids);
        return ids;
    }

    private int Tokenize(ReadOnlySpan<char> text, List<int>? ids)
    {
        // Up to 3 UTF-8 bytes per UTF-16 unit (a surrogate pair is 2 units for 4 bytes).
        Span<byte> buffer = stackalloc byte[StackChars * 3];
        byte[]? rented = null;
        int count = 0;
        try
        {
            int start = 0;
            while (start < text.Length)
            {
                int end = _o200k ? PreTokenizer.O200kEnd(text, start) : PreTokenizer.Cl100kEnd(text, start);
                var piece = text[start..end];
                start = end;

                if (piece.Length > buffer.Length / 3)
                {
                    // Only a gigantic piece needs the exact size; throwing beats silently truncating it.
                    int needed = piece.Length <= Array.MaxLength / 3 ? piece.Length * 3 : Encoding.UTF8.GetByteCount(piece);
                    if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
                    buffer = rented = ArrayPool<byte>.Shared.Rent(needed);
                }
                var bytes = buffer[..ToUtf8(piece, buffer)];
                if (_ranks.TryGetRank(bytes, out int rank))
                {
                    count++;
                    ids?.Add(rank);
                }
                else
                {
                    count += BytePairMerger.Merge(_ranks, bytes, ids);
                }
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
        return count;
    }

    /// <summary>UTF-8 like JavaScript's TextEncoder: each lone surrogate becomes U+FFFD (EF BF BD).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ToUtf8(ReadOnlySpan<char> piece, Span<byte> destination)
    {
        // Most pieces are short ASCII words, where a plain loop beats the transcoder's setup cost.
        if (piece.Length <= 16)
        {
            int i = 0;
            for (; i < piece.Length; i++)
            {
                char c = piece[i];
                if (c >= 0x80) break;
                destination[i] = (byte)c;
            }
            if (i == piece.Length) return i;
        }
        Utf8.FromUtf16(piece, destination, out _, out int written, replaceInvalidSequences: true);
        return written;
    }

    private static string CheckEncoding(string encodingName)
    {
        ArgumentNullException.ThrowIfNull(encodingName);
        if (!ExpectedRankCounts.ContainsKey(encodingName))
        {
            throw new ArgumentException(
                $"Unknown tiktoken encoding '{encodingName}'; supported: {string.Join(", ", SupportedEncodings)}.",
                nameof(encodingName));
        }
        return encodingName;
    }
}
