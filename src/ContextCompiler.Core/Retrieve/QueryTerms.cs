using ContextCompiler.Core.Embedding;

namespace ContextCompiler.Core.Retrieve;

/// <summary>
/// Turns a natural-language query into the terms a full-text search should look for: lower-cased words,
/// identifiers split into parts, common English function words dropped, duplicates removed, in query order.
/// </summary>
public static class QueryTerms
{
    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "do", "does", "did", "for", "from",
        "had", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "me", "my", "of", "on", "or", "our",
        "should", "so", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "was",
        "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you",
        "your", "about", "any", "some", "there", "than", "too", "very", "just", "also", "get", "got", "use", "using",
        "used", "want", "need", "way", "make", "one", "all", "s", "t", "don", "doesn", "isn", "not", "no",
    };

    /// <summary>The stop words, for analyses that need them as a list.</summary>
    public static IEnumerable<string> StopWordList => StopWords;

    /// <summary>True for the common English function words that searches ignore.</summary>
    public static bool IsStopWord(string lowerCaseWord) => StopWords.Contains(lowerCaseWord);

    /// <summary>The search terms of <paramref name="query"/>.</summary>
    public static IReadOnlyList<string> Of(string query)
    {
        var terms = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var word in WordSplitter.Split(query))
        {
            var term = word.ToString().ToLowerInvariant();
            if (!StopWords.Contains(term) && seen.Add(term))
            {
                terms.Add(term);
            }
        }

        return terms;
    }

    /// <summary>True when <paramref name="text"/> contains any of <paramref name="terms"/> as a word prefix (a cheap stem match).</summary>
    public static bool Mentions(string text, IReadOnlyList<string> terms)
    {
        foreach (var word in WordSplitter.Split(text))
        {
            foreach (var term in terms)
            {
                int stem = Math.Max(3, term.Length - 2);
                if (word.Length >= Math.Min(stem, term.Length) && term.AsSpan(0, Math.Min(stem, term.Length)).Equals(word[..Math.Min(stem, word.Length)], StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
