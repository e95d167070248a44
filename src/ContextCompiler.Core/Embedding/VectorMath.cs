using System.Numerics;
using System.Runtime.InteropServices;

namespace ContextCompiler.Core.Embedding;

/// <summary>SIMD helpers for dense float vectors (System.Numerics.Tensors is not available here).</summary>
public static class VectorMath
{
    /// <summary>The dot product of two equally long vectors.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException("Vectors differ in length.", nameof(b));
        }

        var sum = Vector<float>.Zero;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var va = MemoryMarshal.Cast<float, Vector<float>>(a);
            var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
            for (int k = 0; k < va.Length; k++)
            {
                sum += va[k] * vb[k];
            }

            i = va.Length * Vector<float>.Count;
        }

        float total = Vector.Sum(sum);
        for (; i < a.Length; i++)
        {
            total += a[i] * b[i];
        }

        return total;
    }

    /// <summary>Scales <paramref name="v"/> to unit length; a zero vector stays zero.</summary>
    /// <summary>Multiplies every component of <paramref name="v"/> by <paramref name="factor"/>.</summary>
    public static void Scale(Span<float> v, float factor)
    {
        for (int i = 0; i < v.Length; i++)
        {
            v[i] *= factor;
        }
    }

    /// <summary>Scales <paramref name="v"/> to unit length (a zero vector stays zero).</summary>
    public static void Normalize(Span<float> v)
    {
        float norm = MathF.Sqrt(Dot(v, v));
        if (norm > 0)
        {
            for (int i = 0; i < v.Length; i++)
            {
                v[i] /= norm;
            }
        }
    }
}
