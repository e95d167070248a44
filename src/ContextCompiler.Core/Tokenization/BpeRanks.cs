using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ContextCompiler.Core.Tokenization;

/// <summary>
/// Immutable map from token bytes to rank, looked up straight from a byte span.
/// </summary>
/// <remarks>
/// An open-addressing table of 16-byte entries: the first eight token bytes are stored inline, so the
/// common short token is found and verified without touching other memory; only tokens longer than eight
/// bytes compare the rest against a shared byte blob. Safe to share between threads once built.
/// </remarks>
internal sealed class BpeRanks
{
    private const int FileMagic = 0x45504243; // "CBPE"
    private const int FileVersion = 1;

    [StructLayout(LayoutKind.Sequential)]
    private struct Entry
    {
        public ulong Prefix;
        /// <summary>rank &lt;&lt; 8 | length; 0 marks an empty slot (no token is empty).</summary>
        public int RankAndLength;
        /// <summary>Where the bytes after the first eight start in <c>_tails</c>.</summary>
        public int TailOffset;
    }

    private readonly Entry[] _slots;
    private readonly int _mask;
    private readonly int _shift;
    private readonly byte[] _tails;

    private BpeRanks(Entry[] slots, byte[] tails, int count, int maxTokenLength)
    {
        _slots = slots;
        _mask = slots.Length - 1;
        _shift = 64 - BitOperations.Log2((uint)slots.Length);
        _tails = tails;
        Count = count;
        MaxTokenLength = maxTokenLength;
    }

    public int Count { get; }

    public int MaxTokenLength { get; }

    /// <summary>Reads the <c>*.tiktoken.bin</c> format written by assets/prepare.mjs.</summary>
    /// <exception cref="InvalidDataException">The stream is not a well-formed ranks file.</exception>
    public static BpeRanks Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        ReadOnlySpan<byte> span = copy.GetBuffer().AsSpan(0, (int)copy.Length);
        if (span.Length < 12 || BinaryPrimitives.ReadInt32LittleEndian(span) != FileMagic)
        {
            throw new InvalidDataException("Not a BPE ranks file (bad magic); expected a *.tiktoken.bin produced by assets/prepare.mjs.");
        }
        int version = BinaryPrimitives.ReadInt32LittleEndian(span[4..]);
        if (version != FileVersion) throw new InvalidDataException($"Unsupported BPE ranks file version {version}; expected {FileVersion}.");
        int count = BinaryPrimitives.ReadInt32LittleEndian(span[8..]);
        // Every entry takes at least 7 bytes, which bounds a corrupt count before anything is allocated.
        if (count < 256 || count > (span.Length - 12) / 7) throw new InvalidDataException($"Implausible BPE rank count {count}.");

        // At most half full, so that misses (most lookups during merging) end after a probe or two.
        int capacity = (int)BitOperations.RoundUpToPowerOf2((uint)count * 2);
        var slots = new Entry[capacity];
        int shift = 64 - BitOperations.Log2((uint)capacity);
        var tails = new List<byte>();
        int maxLength = 0;
        int offset = 12;
        for (int n = 0; n < count; n++)
        {
            if (offset + 6 > span.Length) throw new InvalidDataException("BPE ranks file is truncated.");
            int rank = BinaryPrimitives.ReadInt32LittleEndian(span[offset..]);
            int length = BinaryPrimitives.ReadUInt16LittleEndian(span[(offset + 4)..]);
            offset += 6;
            if (length is 0 or > 255 || offset + length > span.Length) throw new InvalidDataException($"Bad token length {length} at entry {n}.");
            if (rank < 0 || rank >= 1 << 23) throw new InvalidDataException($"Rank {rank} at entry {n} is out of range.");
            var bytes = span.Slice(offset, length);
            offset += length;

            ulong prefix = LoadPrefix(bytes);
            int i = (int)(Hash(prefix, bytes) >> shift);
            for (; slots[i].RankAndLength != 0; i = (i + 1) & (capacity - 1))
            {
                ref var taken = ref slots[i];
                if ((taken.RankAndLength & 0xFF) == length && taken.Prefix == prefix
                    && (length <= 8 || bytes[8..].SequenceEqual(CollectionsMarshal.AsSpan(tails).Slice(taken.TailOffset, length - 8))))
                {
                    throw new InvalidDataException($"Duplicate token at entry {n} (rank {rank}).");
                }
            }
            slots[i] = new Entry { Prefix = prefix, RankAndLength = rank << 8 | length, TailOffset = tails.Count };
            if (length > 8) tails.AddRange(bytes[8..]);
            maxLength = Math.Max(maxLength, length);
        }
        if (offset != span.Length) throw new InvalidDataException("BPE ranks file has trailing bytes.");

        var result = new BpeRanks(slots, tails.ToArray(), count, maxLength);
        // Byte-pair merging starts from single bytes, so every byte must be a token of its own.
        Span<byte> one = stackalloc byte[1];
        for (int b = 0; b < 256; b++)
        {
            one[0] = (byte)b;
            if (!result.TryGetRank(one, out _)) throw new InvalidDataException($"BPE ranks file has no token for byte 0x{b:X2}.");
        }
        return result;
    }

    /// <summary>The rank of exactly these bytes, if they form a token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetRank(ReadOnlySpan<byte> bytes, out int rank)
    {
        int length = bytes.Length;
        if ((uint)(length - 1) >= (uint)MaxTokenLength)
        {
            rank = -1;
            return false;
        }
        ulong prefix = LoadPrefix(bytes);
        int i = (int)(Hash(prefix, bytes) >> _shift);
        var slots = _slots;
        while (true)
        {
            ref var slot = ref slots[i];
            int rankAndLength = slot.RankAndLength;
            if (rankAndLength == 0)
            {
                rank = -1;
                return false;
            }
            if ((rankAndLength & 0xFF) == length && slot.Prefix == prefix
                && (length <= 8 || bytes[8..].SequenceEqual(_tails.AsSpan(slot.TailOffset, length - 8))))
            {
                rank = rankAndLength >> 8;
                return true;
            }
            i = (i + 1) & _mask;
        }
    }

    /// <summary>The first (up to) eight bytes, little-endian, zero-padded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong LoadPrefix(ReadOnlySpan<byte> bytes) => LoadUpTo8(ref MemoryMarshal.GetReference(bytes), bytes.Length);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong LoadUpTo8(ref byte start, int length)
    {
        if (length >= 8) return Unsafe.ReadUnaligned<ulong>(ref start);
        if (length >= 4)
        {
            // Two overlapping 4-byte reads: the overlapping bytes land on the same positions, so OR is exact.
            ulong low = Unsafe.ReadUnaligned<uint>(ref start);
            ulong high = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, length - 4));
            return low | high << ((length - 4) * 8);
        }
        if (length >= 2)
        {
            ulong low = Unsafe.ReadUnaligned<ushort>(ref start);
            ulong high = Unsafe.Add(ref start, length - 1);
            return low | high << ((length - 1) * 8);
        }
        return length == 1 ? start : 0UL;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Hash(ulong prefix, ReadOnlySpan<byte> bytes)
    {
        ulong h = (prefix + (ulong)bytes.Length * 0x9E3779B97F4A7C15UL) * 0xBF58476D1CE4E5B9UL;
        h ^= h >> 31;
        for (int i = 8; i < bytes.Length; i += 8)
        {
            ulong chunk = LoadUpTo8(ref Unsafe.Add(ref MemoryMarshal.GetReference(bytes), i), Math.Min(8, bytes.Length - i));
            h = (h ^ chunk) * 0x94D049BB133111EBUL;
            h ^= h >> 29;
        }
        // The caller takes the top bits, which a multiply mixes best.
        return h * 0x9E3779B97F4A7C15UL;
    }
}
