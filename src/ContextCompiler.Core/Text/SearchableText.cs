using System.Text;

namespace ContextCompiler.Core.Text;

/// <summary>
/// The copy of client text that a database's text type and full-text index accept. PostgreSQL's <c>text</c> rejects NUL
/// (error 22021) and a lone surrogate cannot be encoded at all, so the exact text is kept elsewhere as
/// <see cref="Wtf8"/> bytes and only this copy is searched.
/// </summary>
public static class SearchableText
{
    /// <summary><paramref name="text"/> with every NUL removed and every lone surrogate replaced by U+FFFD; valid text without NUL is returned as it is.</summary>
    public static string Of(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Contains('\0') && !Wtf8.HasLoneSurrogate(text))
        {
            return text;
        }

        var clean = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\0')
            {
                continue;
            }

            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                clean.Append(c).Append(text[i + 1]);
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                clean.Append('\uFFFD');
            }
            else
            {
                clean.Append(c);
            }
        }

        return clean.ToString();
    }
}
