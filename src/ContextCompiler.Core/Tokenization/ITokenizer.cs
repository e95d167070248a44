namespace ContextCompiler.Core.Tokenization;

/// <summary>
/// Counts and encodes tokens exactly as the model will see them. Kept small so that another
/// implementation (for example Microsoft.ML.Tokenizers' TiktokenTokenizer) can stand in.
/// </summary>
public interface ITokenizer
{
    /// <summary>The encoding's name, for example <c>o200k_base</c>; recorded in every manifest.</summary>
    string Name { get; }

    /// <summary>Exact number of tokens in <paramref name="text"/>; special-token strings count as ordinary text.</summary>
    int CountTokens(ReadOnlySpan<char> text);

    /// <summary>The token ids of <paramref name="text"/>, special-token strings encoded as ordinary text.</summary>
    IReadOnlyList<int> Encode(ReadOnlySpan<char> text);
}
