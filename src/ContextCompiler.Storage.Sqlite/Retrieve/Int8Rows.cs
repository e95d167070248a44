using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ContextCompiler.Storage.Sqlite;

/// <summary>
/// An int8 copy of a snapshot's float rows: a first pass over it reads a quarter of the bytes of the float matrix, and
/// at 100k rows the exact scan is bound by memory, not arithmetic.
/// </summary>
/// <remarks>
/// Symmetric quantisation with one scale per row: a row's largest component maps to ±127. A fixed scale (127 for every
/// component of a unit vector) would leave most of the range unused, since a 384-dimension unit vector's components
/// rarely pass 0.3; per-dimension scales would depend on every row, so a row added by an incremental reload could force
/// the whole copy to be quantised again. A per-row scale depends on the row alone, so a reused row keeps its codes.
/// Each row also keeps bounds on its quantisation error and its length, from which a search can prove that its
/// shortlist holds the exact top rows (<see cref="InMemoryVectorIndex"/>).
/// </remarks>
internal sealed class Int8Rows
{
    internal Int8Rows(int dimensions, sbyte[] codes, float[] scales, float[] errors, float[] norms, bool[] hasVector)
    {
        Dimensions = dimensions;
        Codes = codes;
        Scales = scales;
        Errors = errors;
        Norms = norms;
        // Rows without a vector are never scanned; their zeros would only lower the maxima anyway.
        for (int row = 0; row < hasVector.Length; row++)
        {
            if (hasVector[row])
            {
                MaxError = Math.Max(MaxError, errors[row]);
                MaxNorm = Math.Max(MaxNorm, norms[row]);
            }
        }
    }

    public int Dimensions { get; }

    /// <summary>Row-major codes: row r is about <c>Codes[r] * Scales[r]</c>.</summary>
    public sbyte[] Codes { get; }

    public float[] Scales { get; }

    /// <summary>An upper bound on each row's ‖row − codes·scale‖ (infinite for a row that holds no finite number).</summary>
    public float[] Errors { get; }

    /// <summary>An upper bound on each row's length.</summary>
    public float[] Norms { get; }

    /// <summary>The largest error of a row with a vector.</summary>
    public float MaxError { get; }

    /// <summary>The largest length of a row with a vector.</summary>
    public float MaxNorm { get; }

    /// <summary>Quantises <paramref name="row"/> into <paramref name="codes"/>, with its scale and the bounds a search relies on.</summary>
    public static void Quantize(ReadOnlySpan<float> row, Span<sbyte> codes, out float scale, out float error, out float norm)
    {
        float max = 0;
        foreach (float v in row)
        {
            max = MathF.Max(max, MathF.Abs(v));
        }

        if (!float.IsFinite(max))
        {
            // No bound holds for such a row: an infinite error makes every search that meets it fall back to the exact scan.
            codes.Clear();
            (scale, error, norm) = (0, float.PositiveInfinity, float.PositiveInfinity);
            return;
        }

        scale = max / 127f;
        float inverse = max > 0 ? 127f / max : 0;
        double squaredError = 0, squaredNorm = 0;
        for (int i = 0; i < row.Length; i++)
        {
            int code = Math.Clamp((int)MathF.Round(row[i] * inverse), -127, 127);
            codes[i] = (sbyte)code;
            double off = row[i] - (double)code * scale;
            squaredError += off * off;
            squaredNorm += (double)row[i] * row[i];
        }

        error = RoundUp(Math.Sqrt(squaredError));
        norm = RoundUp(Math.Sqrt(squaredNorm));
    }

    /// <summary>
    /// The query as int16 codes with one scale: int16 makes the query's own rounding error negligible next to the rows',
    /// at no cost, since the int8 row codes are widened to int16 for the multiply anyway.
    /// </summary>
    /// <returns>False for a query with no finite, nonzero component: the exact scan answers it.</returns>
    public static bool TryQuantizeQuery(ReadOnlySpan<float> query, short[] codes, out float scale, out double error)
    {
        float max = 0;
        foreach (float v in query)
        {
            max = MathF.Max(max, MathF.Abs(v));
        }

        (scale, error) = (0, 0);
        if (!float.IsFinite(max) || max == 0)
        {
            return false;
        }

        // Small enough that no sum over a row overflows an int: |Σ code·q| ≤ dims · 127 · limit.
        int limit = (int)Math.Min(short.MaxValue, int.MaxValue / (127L * query.Length));
        scale = max / limit;
        float inverse = limit / max;
        double squaredError = 0;
        for (int i = 0; i < query.Length; i++)
        {
            int code = Math.Clamp((int)MathF.Round(query[i] * inverse), -limit, limit);
            codes[i] = (short)code;
            double off = query[i] - (double)code * scale;
            squaredError += off * off;
        }

        error = Math.Sqrt(squaredError);
        return true;
    }

    /// <summary>Σ codes[i]·query[i] in integers (exact; the query's scale keeps it within an int).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Dot(ReadOnlySpan<sbyte> codes, ReadOnlySpan<short> query) =>
        Avx2.IsSupported ? DotAvx2(codes, query) : DotPortable(codes, query);

    // vpmovsxbw widens 16 codes to int16, vpmaddwd multiplies them by the query's int16 and adds pairs into int32;
    // two accumulators let consecutive loads overlap.
    internal static int DotAvx2(ReadOnlySpan<sbyte> codes, ReadOnlySpan<short> query)
    {
        int n = Math.Min(codes.Length, query.Length);
        ref sbyte c = ref MemoryMarshal.GetReference(codes);
        ref short q = ref MemoryMarshal.GetReference(query);
        var a = Vector256<int>.Zero;
        var b = Vector256<int>.Zero;
        int i = 0;
        for (; i <= n - 32; i += 32)
        {
            a = Avx2.Add(a, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref c, (nuint)i)), Vector256.LoadUnsafe(ref q, (nuint)i)));
            b = Avx2.Add(b, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref c, (nuint)(i + 16))), Vector256.LoadUnsafe(ref q, (nuint)(i + 16))));
        }

        int sum = Vector256.Sum(Avx2.Add(a, b));
        for (; i < n; i++)
        {
            sum += Unsafe.Add(ref c, i) * Unsafe.Add(ref q, i);
        }

        return sum;
    }

    // Without AVX2 (Arm64, older x64): the same integer sum with portable 128-bit vectors.
    internal static int DotPortable(ReadOnlySpan<sbyte> codes, ReadOnlySpan<short> query)
    {
        int n = Math.Min(codes.Length, query.Length);
        ref sbyte c = ref MemoryMarshal.GetReference(codes);
        ref short q = ref MemoryMarshal.GetReference(query);
        int sum = 0;
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            var acc = Vector128<int>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var (low, high) = Vector128.Widen(Vector128.LoadUnsafe(ref c, (nuint)i));
                var (q0, q1) = Vector128.Widen(Vector128.LoadUnsafe(ref q, (nuint)i));
                var (q2, q3) = Vector128.Widen(Vector128.LoadUnsafe(ref q, (nuint)(i + 8)));
                var (c0, c1) = Vector128.Widen(low);
                var (c2, c3) = Vector128.Widen(high);
                acc += c0 * q0 + c1 * q1 + c2 * q2 + c3 * q3;
            }

            sum = Vector128.Sum(acc);
        }

        for (; i < n; i++)
        {
            sum += Unsafe.Add(ref c, i) * Unsafe.Add(ref q, i);
        }

        return sum;
    }

    // A float at least as large as the double, so a bound stays a bound after narrowing.
    private static float RoundUp(double value)
    {
        float narrowed = (float)value;
        return narrowed < value ? MathF.BitIncrement(narrowed) : narrowed;
    }
}

/// <summary>
/// Writes a snapshot's vectors: the float rows, which rows have one, and their int8 copy. Every load path writes rows
/// only through <see cref="Set"/> and <see cref="Copy"/>, so the two copies cannot drift apart.
/// </summary>
internal sealed class VectorRowsBuilder
{
    private readonly int _dims;
    private readonly float[] _matrix;
    private readonly bool[] _hasVector;
    private readonly sbyte[] _codes;
    private readonly float[] _scales;
    private readonly float[] _errors;
    private readonly float[] _norms;

    /// <summary>Rows without vectors (zeros) until set.</summary>
    public VectorRowsBuilder(int rows, int dims)
        : this(dims, new float[rows * dims], new bool[rows], new sbyte[rows * dims], new float[rows], new float[rows], new float[rows])
    {
    }

    private VectorRowsBuilder(int dims, float[] matrix, bool[] hasVector, sbyte[] codes, float[] scales, float[] errors, float[] norms) =>
        (_dims, _matrix, _hasVector, _codes, _scales, _errors, _norms) = (dims, matrix, hasVector, codes, scales, errors, norms);

    /// <summary>A copy of <paramref name="previous"/>'s rows, to which more vectors can be set.</summary>
    public static VectorRowsBuilder CopyOf(IndexSnapshot previous) => new(
        previous.Dimensions, (float[])previous.Matrix.Clone(), (bool[])previous.HasVector.Clone(), (sbyte[])previous.Int8.Codes.Clone(),
        (float[])previous.Int8.Scales.Clone(), (float[])previous.Int8.Errors.Clone(), (float[])previous.Int8.Norms.Clone());

    public bool HasVector(int row) => _hasVector[row];

    /// <summary>Stores <paramref name="vector"/> as row <paramref name="row"/>, and its int8 codes.</summary>
    public void Set(int row, ReadOnlySpan<float> vector)
    {
        var target = _matrix.AsSpan(row * _dims, _dims);
        vector.CopyTo(target);
        Int8Rows.Quantize(target, _codes.AsSpan(row * _dims, _dims), out _scales[row], out _errors[row], out _norms[row]);
        _hasVector[row] = true;
    }

    /// <summary>Row <paramref name="from"/> of <paramref name="previous"/> (which has a vector) as row <paramref name="to"/>, codes and all.</summary>
    public void Copy(IndexSnapshot previous, int from, int to)
    {
        previous.Matrix.AsSpan(from * _dims, _dims).CopyTo(_matrix.AsSpan(to * _dims, _dims));
        previous.Int8.Codes.AsSpan(from * _dims, _dims).CopyTo(_codes.AsSpan(to * _dims, _dims));
        _scales[to] = previous.Int8.Scales[from];
        _errors[to] = previous.Int8.Errors[from];
        _norms[to] = previous.Int8.Norms[from];
        _hasVector[to] = true;
    }

    public (float[] Matrix, bool[] HasVector, Int8Rows Int8) Build() =>
        (_matrix, _hasVector, new Int8Rows(_dims, _codes, _scales, _errors, _norms, _hasVector));
}
