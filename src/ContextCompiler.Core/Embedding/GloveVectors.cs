using System.Text;

namespace ContextCompiler.Core.Embedding;

/// <summary>
/// Pretrained GloVe word vectors, rows ordered by corpus frequency rank (row 0 is the most frequent word).
/// Read from the compact binary that <c>assets/prepare.mjs</c> writes; values are stored as float16.
/// </summary>
public sealed class GloveVectors
{
    private const int Magic = 0x564c4743; // "CGLV"
    private readonly Half[] _matrix;
    private readonly Dictionary<string, int> _rows;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    private GloveVectors(Half[] matrix, Dictionary<string, int> rows, int dimensions)
    {
        _matrix = matrix;
        _rows = rows;
        _lookup = rows.GetAlternateLookup<ReadOnlySpan<char>>();
        Dimensions = dimensions;
    }

    /// <summary>Number of components in each vector.</summary>
    public int Dimensions { get; }

    /// <summary>Number of words in the vocabulary.</summary>
    public int Count => _rows.Count;

    /// <summary>Reads the binary written by the asset build.</summary>
    public static GloveVectors Load(Stream stream)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        if (reader.ReadInt32() != Magic || reader.ReadInt32() != 1)
        {
            throw new InvalidDataException("Not a ContextCompiler GloVe asset (bad magic or version); rebuild to regenerate .assets/.");
        }

        int count = reader.ReadInt32();
        int dims = reader.ReadInt32();
        var matrix = new Half[checked(count * dims)];
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(matrix.AsSpan());
        stream.ReadExactly(bytes);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("GloVe assets are little-endian.");
        }

        var rows = new Dictionary<string, int>(count, StringComparer.Ordinal);
        Span<byte> word = stackalloc byte[ushort.MaxValue];
        for (int i = 0; i < count; i++)
        {
            int length = reader.ReadUInt16();
            stream.ReadExactly(word[..length]);
            rows.TryAdd(Encoding.UTF8.GetString(word[..length]), i);
        }

        return new GloveVectors(matrix, rows, dims);
    }

    /// <summary>The frequency rank (row) of <paramref name="word"/>, or -1 when it is not in the vocabulary.</summary>
    public int RankOf(ReadOnlySpan<char> word) => _lookup.TryGetValue(word, out int row) ? row : -1;

    /// <summary>Adds <paramref name="weight"/> times the vector at <paramref name="row"/> into <paramref name="sum"/>.</summary>
    public void AddScaled(int row, float weight, Span<float> sum)
    {
        var vector = _matrix.AsSpan(row * Dimensions, Dimensions);
        for (int d = 0; d < vector.Length; d++)
        {
            sum[d] += weight * (float)vector[d];
        }
    }

}
