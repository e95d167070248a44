namespace ContextCompiler.Core.Retrieve;

/// <summary>
/// The Porter suffix-stripping stemmer for lower-case English words, exactly as FTS5's <c>porter</c> tokenizer
/// applies it, so that the in-memory BM25 index and FTS5 agree on what a term is. FTS5 follows Porter's later
/// amendments (step 2 turns <c>bli</c> into <c>ble</c> and <c>logi</c> into <c>log</c>), not the 1980 paper.
/// </summary>
public static class PorterStemmer
{
    // FTS5 passes longer tokens through unstemmed (FTS5_PORTER_MAX_TOKEN, in bytes; one byte per letter here).
    private const int MaxStemmedLength = 64;

    /// <summary>
    /// The stem of <paramref name="word"/>: lower-case ASCII letters, 3 to 64 of them; anything else is returned unchanged.
    /// </summary>
    public static string Stem(string word)
    {
        if (word.Length <= 2 || word.Length > MaxStemmedLength || !IsLowerAscii(word))
        {
            return word;
        }

        var w = new Word(word);
        w.Step1a();
        w.Step1b();
        w.Step1c();
        w.Step2();
        w.Step3();
        w.Step4();
        w.Step5();
        return w.ToString();
    }

    private static bool IsLowerAscii(string word)
    {
        foreach (char c in word)
        {
            if (c is < 'a' or > 'z')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A word being stemmed: a buffer and its current end.</summary>
    private sealed class Word(string text)
    {
        private readonly char[] _b = text.ToCharArray();
        private int _end = text.Length; // exclusive

        public override string ToString() => new(_b, 0, _end);

        public void Step1a()
        {
            if (EndsWith("sses") || EndsWith("ies"))
            {
                _end -= 2;
            }
            else if (EndsWith("s") && !EndsWith("ss"))
            {
                _end -= 1;
            }
        }

        public void Step1b()
        {
            if (EndsWith("eed"))
            {
                if (Measure(_end - 3) > 0)
                {
                    _end -= 1;
                }

                return;
            }

            bool stripped = false;
            if (EndsWith("ed") && HasVowel(_end - 2))
            {
                _end -= 2;
                stripped = true;
            }
            else if (EndsWith("ing") && HasVowel(_end - 3))
            {
                _end -= 3;
                stripped = true;
            }

            if (!stripped)
            {
                return;
            }

            if (EndsWith("at") || EndsWith("bl") || EndsWith("iz"))
            {
                Append('e');
            }
            else if (EndsWithDoubleConsonant() && _b[_end - 1] is not ('l' or 's' or 'z'))
            {
                _end -= 1;
            }
            else if (Measure(_end) == 1 && IsCvc(_end))
            {
                Append('e');
            }
        }

        public void Step1c()
        {
            if (EndsWith("y") && HasVowel(_end - 1))
            {
                _b[_end - 1] = 'i';
            }
        }

        public void Step2()
        {
            // bli and logi are Porter's amendments that FTS5 applies: "possibly" then shares "possibl" with "possible",
            // and "technology" becomes "technolog" as FTS5 has it. Where one suffix ends another, the longer comes first.
            _ = Replace("ational", "ate") || Replace("tional", "tion") || Replace("enci", "ence") || Replace("anci", "ance")
                || Replace("izer", "ize") || Replace("logi", "log") || Replace("bli", "ble") || Replace("alli", "al")
                || Replace("entli", "ent") || Replace("eli", "e") || Replace("ousli", "ous") || Replace("ization", "ize")
                || Replace("ation", "ate") || Replace("ator", "ate") || Replace("alism", "al") || Replace("iveness", "ive")
                || Replace("fulness", "ful") || Replace("ousness", "ous") || Replace("aliti", "al") || Replace("iviti", "ive")
                || Replace("biliti", "ble");
        }

        public void Step3()
        {
            _ = Replace("icate", "ic") || Replace("ative", "") || Replace("alize", "al") || Replace("iciti", "ic")
                || Replace("ical", "ic") || Replace("ful", "") || Replace("ness", "");
        }

        public void Step4()
        {
            string[] suffixes =
            [
                "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion", "ou", "ism", "ate",
                "iti", "ous", "ive", "ize",
            ];

            // The longest matching suffix decides, as in the original algorithm's switch on the penultimate letter.
            string? match = null;
            foreach (var suffix in suffixes)
            {
                if (EndsWith(suffix) && (match is null || suffix.Length > match.Length))
                {
                    match = suffix;
                }
            }

            if (match is null)
            {
                return;
            }

            int stem = _end - match.Length;
            if (Measure(stem) <= 1)
            {
                return;
            }

            if (match == "ion" && (stem == 0 || _b[stem - 1] is not ('s' or 't')))
            {
                return;
            }

            _end = stem;
        }

        public void Step5()
        {
            if (EndsWith("e"))
            {
                int m = Measure(_end - 1);
                if (m > 1 || (m == 1 && !IsCvc(_end - 1)))
                {
                    _end -= 1;
                }
            }

            if (_end > 1 && _b[_end - 1] == 'l' && _b[_end - 2] == 'l' && Measure(_end) > 1)
            {
                _end -= 1;
            }
        }

        private bool Replace(string suffix, string replacement)
        {
            if (!EndsWith(suffix))
            {
                return false;
            }

            int stem = _end - suffix.Length;
            if (Measure(stem) > 0)
            {
                replacement.CopyTo(0, _b, stem, replacement.Length);
                _end = stem + replacement.Length;
            }

            // A matched suffix ends the step even when the measure condition fails.
            return true;
        }

        private void Append(char c) => _b[_end++] = c;

        // FTS5 matches a suffix only when at least one letter precedes it, so "ies" becomes "ie" and "eed" becomes "e".
        private bool EndsWith(string suffix) =>
            _end > suffix.Length && _b.AsSpan(_end - suffix.Length, suffix.Length).SequenceEqual(suffix);

        private bool IsConsonant(int i) => _b[i] switch
        {
            'a' or 'e' or 'i' or 'o' or 'u' => false,
            'y' => i == 0 || !IsConsonant(i - 1),
            _ => true,
        };

        /// <summary>m in [C](VC)^m[V] for the first <paramref name="length"/> letters.</summary>
        private int Measure(int length)
        {
            int i = 0, m = 0;
            while (i < length && IsConsonant(i))
            {
                i++;
            }

            while (i < length)
            {
                while (i < length && !IsConsonant(i))
                {
                    i++;
                }

                if (i >= length)
                {
                    break;
                }

                while (i < length && IsConsonant(i))
                {
                    i++;
                }

                m++;
            }

            return m;
        }

        private bool HasVowel(int length)
        {
            for (int i = 0; i < length; i++)
            {
                if (!IsConsonant(i))
                {
                    return true;
                }
            }

            return false;
        }

        // Unlike the measure, this test counts y as a consonant wherever it stands, as FTS5 does: "ayying" loses a y.
        private bool EndsWithDoubleConsonant() =>
            _end >= 2 && _b[_end - 1] == _b[_end - 2] && _b[_end - 1] is not ('a' or 'e' or 'i' or 'o' or 'u');

        // consonant-vowel-consonant ending, where the last consonant is not w, x or y.
        private bool IsCvc(int length) =>
            length >= 3 && IsConsonant(length - 1) && !IsConsonant(length - 2) && IsConsonant(length - 3)
            && _b[length - 1] is not ('w' or 'x' or 'y');
    }
}
