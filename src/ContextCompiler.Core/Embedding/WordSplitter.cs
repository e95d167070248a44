namespace ContextCompiler.Core.Embedding;

/// <summary>
/// Splits text into lower-casable words for vector lookup: runs of letters and digits, with
/// identifiers such as <c>busy_timeout</c> or <c>busyTimeout</c> broken into their parts.
/// </summary>
public static class WordSplitter
{
    /// <summary>Enumerates the words of <paramref name="text"/> without allocating.</summary>
    public static Enumerator Split(ReadOnlySpan<char> text) => new(text);

    /// <summary>A non-allocating enumerator over words.</summary>
    public ref struct Enumerator
    {
        private readonly ReadOnlySpan<char> _text;
        private int _position;

        internal Enumerator(ReadOnlySpan<char> text)
        {
            _text = text;
            _position = 0;
            Current = default;
        }

        /// <summary>The current word.</summary>
        public ReadOnlySpan<char> Current { get; private set; }

        /// <summary>Part of the enumerator pattern.</summary>
        public readonly Enumerator GetEnumerator() => this;

        /// <summary>Advances to the next word.</summary>
        public bool MoveNext()
        {
            while (_position < _text.Length && !char.IsLetterOrDigit(_text[_position]))
            {
                _position++;
            }

            if (_position >= _text.Length)
            {
                return false;
            }

            int start = _position++;
            while (_position < _text.Length && char.IsLetterOrDigit(_text[_position]) && !IsCamelBoundary(_position))
            {
                _position++;
            }

            Current = _text[start.._position];
            return true;
        }

        private readonly bool IsCamelBoundary(int i) => char.IsUpper(_text[i]) && char.IsLower(_text[i - 1]);
    }
}
