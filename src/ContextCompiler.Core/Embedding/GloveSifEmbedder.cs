using Microsoft.Extensions.AI;

namespace ContextCompiler.Core.Embedding;

/// <summary>
/// A sentence embedder built on pretrained GloVe vectors with smooth inverse frequency weighting
/// (Arora, Liang and Ma, 2017): each word is weighted a/(a+p(w)), the common component is removed,
/// and the result is L2-normalised. p(w) comes from the word's GloVe frequency rank through Zipf's law,
/// so the model is fixed and needs no corpus statistics: the same text always gives the same vector.
/// </summary>
public sealed class GloveSifEmbedder : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>The model identifier recorded in every index built with this embedder.</summary>
    public const string ModelId = "glove-wink-sg-100d-sif-v1";

    private const float SifA = 1e-3f;
    // The common component is estimated from the words that carry nearly all of the probability mass.
    private const int CommonComponentVocabulary = 50_000;

    private readonly GloveVectors _vectors;
    private readonly float[] _weights;
    private readonly float[] _commonComponent;

    /// <summary>Creates the embedder over the given vectors.</summary>
    public GloveSifEmbedder(GloveVectors vectors)
    {
        _vectors = vectors;
        _weights = ZipfSifWeights(vectors.Count);
        _commonComponent = EstimateCommonComponent(vectors, _weights);
        Metadata = new EmbeddingGeneratorMetadata("glove-sif", defaultModelId: ModelId, defaultModelDimensions: vectors.Dimensions);
    }

    /// <summary>Number of dimensions of every embedding.</summary>
    public int Dimensions => _vectors.Dimensions;

    /// <inheritdoc />
    public EmbeddingGeneratorMetadata Metadata { get; }

    /// <inheritdoc />
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (var value in values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            result.Add(new Embedding<float>(Embed(value)) { ModelId = ModelId });
        }

        return Task.FromResult(result);
    }

    /// <summary>Embeds one text synchronously; the vector is unit length, or all zeros when no word is known.</summary>
    public float[] Embed(ReadOnlySpan<char> text)
    {
        var sum = new float[_vectors.Dimensions];
        int known = 0;
        Span<char> lower = stackalloc char[64];
        foreach (var word in WordSplitter.Split(text))
        {
            if (word.Length > lower.Length)
            {
                continue;
            }

            int length = word.ToLowerInvariant(lower);
            int row = _vectors.RankOf(lower[..length]);
            if (row < 0)
            {
                continue;
            }

            _vectors.AddScaled(row, _weights[row], sum);
            known++;
        }

        if (known == 0)
        {
            return sum;
        }

        // Averaging does not change the direction, and the vector is normalised below, so only the projection matters.
        float projection = VectorMath.Dot(sum, _commonComponent);
        for (int d = 0; d < sum.Length; d++)
        {
            sum[d] -= projection * _commonComponent[d];
        }

        VectorMath.Normalize(sum);
        return sum;
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private static float[] ZipfSifWeights(int count)
    {
        // Zipf: p(rank r) = 1 / ((r + 1) * H_N). GloVe's vocabulary is sorted by frequency, so rank is the row.
        double harmonic = Math.Log(count) + 0.5772156649;
        var weights = new float[count];
        for (int r = 0; r < count; r++)
        {
            double p = 1.0 / ((r + 1) * harmonic);
            weights[r] = (float)(SifA / (SifA + p));
        }

        return weights;
    }

    private static float[] EstimateCommonComponent(GloveVectors vectors, float[] weights)
    {
        // The first principal direction of SIF-weighted words drawn with their frequencies:
        // the top eigenvector of sum_w p(w) * (s_w v_w)(s_w v_w)^T, found by power iteration.
        int dims = vectors.Dimensions;
        int words = Math.Min(CommonComponentVocabulary, vectors.Count);
        double harmonic = Math.Log(vectors.Count) + 0.5772156649;
        var moment = new double[dims, dims];
        var row = new float[dims];
        for (int r = 0; r < words; r++)
        {
            Array.Clear(row);
            vectors.AddScaled(r, weights[r], row);
            double p = 1.0 / ((r + 1) * harmonic);
            for (int i = 0; i < dims; i++)
            {
                for (int j = i; j < dims; j++)
                {
                    moment[i, j] += p * row[i] * row[j];
                }
            }
        }

        var v = new double[dims];
        Array.Fill(v, 1.0 / Math.Sqrt(dims));
        var next = new double[dims];
        for (int iteration = 0; iteration < 200; iteration++)
        {
            for (int i = 0; i < dims; i++)
            {
                double s = 0;
                for (int j = 0; j < dims; j++)
                {
                    s += (i <= j ? moment[i, j] : moment[j, i]) * v[j];
                }

                next[i] = s;
            }

            double norm = Math.Sqrt(next.Sum(x => x * x));
            for (int i = 0; i < dims; i++)
            {
                next[i] /= norm;
            }

            (v, next) = (next, v);
        }

        return v.Select(x => (float)x).ToArray();
    }
}
