using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace ContextCompiler.SemanticKernel;

/// <summary>
/// Counts text in the exact tokens of a tiktoken encoding (<c>o200k_base</c>, <c>cl100k_base</c>) or of a model that uses
/// one (<c>gpt-4o</c>, <c>gpt-4</c>, …), with Microsoft.ML.Tokenizers' vocabularies. Special-token strings such as
/// <c>&lt;|endoftext|&gt;</c> count as the plain text they are, as an API counts a user's message. Thread-safe.
/// </summary>
public sealed class ExactTokenCounter
{
    /// <summary>The encoding of GPT-4o and later models.</summary>
    public const string O200kBase = "o200k_base";

    /// <summary>The encoding of GPT-4 and GPT-3.5-turbo.</summary>
    public const string Cl100kBase = "cl100k_base";

    // ML.Tokenizers' pre-tokenizer for a model also splits out special-token strings and its tokenizer maps them to their
    // one special id, so "<|endoftext|>" typed by a user would count 1 where the API counts 7. Splitting with the
    // encoding's own split pattern and no special tokens, then counting each piece without pre-tokenization, counts
    // the text as text. These are tiktoken's split patterns, in the .NET form ML.Tokenizers uses (atomic groups
    // for tiktoken's possessive quantifiers).
    private static readonly Dictionary<string, string> SplitPatterns = new(StringComparer.Ordinal)
    {
        [O200kBase] = @"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
        [Cl100kBase] = @"'(?i:[sdmt]|ll|ve|re)|(?>[^\r\n\p{L}\p{N}]?)(?>\p{L}+)|(?>\p{N}{1,3})| ?(?>[^\s\p{L}\p{N}]+)(?>[\r\n]*)|(?>\s+)$|\s*[\r\n]|\s+(?!\S)|\s",
    };

    // Letters, digits, punctuation, accents and an astral character: o200k_base and cl100k_base disagree on it.
    private const string Probe = "Budgets are counted in the model's own tokens: naïve café, 12345 ✓ 😀 <tag>";

    private static readonly ConcurrentDictionary<string, ExactTokenCounter> Counters = new(StringComparer.OrdinalIgnoreCase);

    private readonly Tokenizer _tokenizer;
    private readonly RegexPreTokenizer _split;

    private ExactTokenCounter(string encoding, Tokenizer tokenizer)
    {
        Encoding = encoding;
        _tokenizer = tokenizer;
        _split = new RegexPreTokenizer(new Regex(SplitPatterns[encoding], RegexOptions.Compiled | RegexOptions.CultureInvariant), specialTokens: null);
    }

    /// <summary>The encoding counted in, <c>o200k_base</c> or <c>cl100k_base</c>.</summary>
    public string Encoding { get; }

    /// <summary>The counter for an encoding or model name; loaded once per name and shared.</summary>
    /// <exception cref="ArgumentException">The name is neither a supported encoding nor a model ML.Tokenizers maps to one.</exception>
    public static ExactTokenCounter For(string encodingOrModel)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(encodingOrModel);
        return Counters.GetOrAdd(encodingOrModel, Load);
    }

    /// <summary>The exact tokens of <paramref name="text"/> as plain text.</summary>
    public int Count(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }

        int count = 0;
        foreach (var (offset, length) in _split.PreTokenize(text))
        {
            count += _tokenizer.CountTokens(text.AsSpan(offset, length), considerPreTokenization: false, considerNormalization: false);
        }

        return count;
    }

    private static ExactTokenCounter Load(string name)
    {
        if (SplitPatterns.ContainsKey(name))
        {
            return new ExactTokenCounter(name, TiktokenTokenizer.CreateForEncoding(name));
        }

        TiktokenTokenizer model;
        try
        {
            model = TiktokenTokenizer.CreateForModel(name);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidOperationException)
        {
            throw new ArgumentException($"Unknown tokenizer '{name}': give {O200kBase}, {Cl100kBase} or a model that uses one (gpt-4o, gpt-4, gpt-3.5-turbo, …).", nameof(name), e);
        }

        // ML.Tokenizers does not say which encoding a model uses; the one whose ids for the probe are the model's is it.
        var expected = model.EncodeToIds(Probe);
        foreach (var encoding in SplitPatterns.Keys)
        {
            var tokenizer = TiktokenTokenizer.CreateForEncoding(encoding);
            if (tokenizer.EncodeToIds(Probe).SequenceEqual(expected))
            {
                return new ExactTokenCounter(encoding, tokenizer);
            }
        }

        throw new ArgumentException($"Model '{name}' uses an encoding other than {O200kBase} and {Cl100kBase}, which this counter does not know.", nameof(name));
    }
}
