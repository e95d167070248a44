using System.Collections.Concurrent;
using MlTiktoken = Microsoft.ML.Tokenizers.TiktokenTokenizer;

namespace ContextCompiler.Engine.Assets;

/// <summary>
/// Resolves a model name (<c>gpt-4o</c>, <c>gpt-4.1</c>, <c>gpt-4</c>, <c>gpt-3.5-turbo</c>, <c>text-embedding-3-small</c>, …)
/// to the encoding its budgets are counted in, through Microsoft.ML.Tokenizers' own model map. The counting itself
/// stays with the project's BPE (measured faster, and equal on the whole default corpus; benchmarks/RESULTS.md): the
/// encoding is the one whose ids for a probe text equal what ML.Tokenizers' tokenizer for the model gives.
/// </summary>
public static class TokenizerModels
{
    // Letters, digits, spaces, punctuation, accents and an astral character: the encodings we ship disagree on it.
    private const string Probe = "Budgets are counted in the model's own tokens: naïve café, 12345 ✓ 😀 <tag>";
    private static readonly ConcurrentDictionary<string, string> Resolved = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The encoding (for example <c>o200k_base</c>) of <paramref name="model"/>.</summary>
    /// <exception cref="ArgumentException">ML.Tokenizers does not know the model, or it uses an encoding this service does not ship.</exception>
    public static string EncodingOf(string model, OfflineAssets assets)
    {
        if (assets.Encodings.Contains(model))
        {
            return model;
        }

        return Resolved.GetOrAdd(model, name =>
        {
            MlTiktoken reference;
            try
            {
                reference = MlTiktoken.CreateForModel(name);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidOperationException)
            {
                throw new ArgumentException(
                    $"Unknown tokenizer or model '{name}'. Give an encoding ({string.Join(", ", assets.Encodings)}) or a model name such as gpt-4o, gpt-4 or gpt-3.5-turbo.", e);
            }

            var expected = reference.EncodeToIds(Probe);
            foreach (var encoding in assets.Encodings)
            {
                if (assets.Tokenizer(encoding).Encode(Probe).SequenceEqual(expected))
                {
                    return encoding;
                }
            }

            throw new ArgumentException($"Model '{name}' uses an encoding this service does not count with; use one of {string.Join(", ", assets.Encodings)}.");
        });
    }
}
