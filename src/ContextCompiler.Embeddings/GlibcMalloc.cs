using System.Runtime.InteropServices;

namespace ContextCompiler.Embeddings;

/// <summary>
/// Tunes glibc's malloc for a process that runs ONNX Runtime, as its hosts (<c>contextc</c>, the server) start.
/// ONNX Runtime allocates and frees each run's activations (its own arena is off, see
/// <see cref="OnnxEmbedderOptions.UseMemoryArena"/>). glibc serves a freed large block's size from its heaps from
/// then on (its mmap threshold rises with every such free, up to 32 MB), and gives busy threads heaps of their own, so
/// freed activations stayed resident: embedding 10,000 passages grew a process from 210 MB to 520 MB, and a first
/// start's fill reached 1.7 GB. A fixed threshold returns large blocks to the system when they are freed; two heaps
/// bound the rest (benchmarks/RESULTS.md, issue 19). The same as MALLOC_MMAP_THRESHOLD_ and MALLOC_ARENA_MAX, which
/// win when set.
/// </summary>
public static partial class GlibcMalloc
{
    private const int ArenaMax = -8; // M_ARENA_MAX in glibc's malloc.h
    private const int MmapThreshold = -3; // M_MMAP_THRESHOLD

    /// <summary>Applies the settings; does nothing off Linux or off glibc, or for a setting given in the environment.</summary>
    /// <remarks>Call before the process starts its threads: heaps are handed to threads as they first contend.</remarks>
    public static void Tune()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            if (Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is null)
            {
                _ = MallOpt(MmapThreshold, 128 * 1024);
            }

            if (Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is null)
            {
                _ = MallOpt(ArenaMax, 2);
            }
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            // musl and other C libraries have no mallopt (nor glibc's per-thread heaps).
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int MallOpt(int parameter, int value);
}
