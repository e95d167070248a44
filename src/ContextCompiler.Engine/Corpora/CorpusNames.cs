using System.Text.RegularExpressions;

namespace ContextCompiler.Engine.Corpora;

/// <summary>The rule for a corpus's name, the same in every store.</summary>
public static partial class CorpusNames
{
    /// <exception cref="ArgumentException">A name outside the rules.</exception>
    public static void Validate(string? name)
    {
        if (name is null || !NamePattern().IsMatch(name))
        {
            throw new ArgumentException(
                $"A corpus name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit; '{name}' is not.");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();
}
