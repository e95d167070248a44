using System.Diagnostics;
using ContextCompiler.Core.Ingest;
using ContextCompiler.Core.Telemetry;
using ContextCompiler.Core.Tokenization;
using ContextCompiler.Engine.Index;
using Microsoft.Extensions.AI;

namespace ContextCompiler.Engine.Ingest;

/// <summary>
/// Ingests folders (or documents given as text) into the span index: find files → load → chunk (with exact token counts)
/// → write text, then, given an embedder, fill in the vectors (<see cref="VectorIndexer"/>). Without an embedder the
/// text is searchable at once and vectors are left for a background <see cref="VectorIndexer"/>. Re-ingesting is
/// idempotent by content hash and chunking settings; each batch of files is one transaction, and a bad file is skipped
/// with a reason without stopping the run.
/// </summary>
public sealed class CorpusIngestor(ISpanIndex index, ITokenizer tokenizer, IEmbeddingGenerator<string, Embedding<float>>? embedder = null)
{
    /// <summary>Ingests every root folder (or single file) in <paramref name="roots"/> on a worker thread.</summary>
    public Task<IngestReport> IngestAsync(
        IReadOnlyList<string> roots, IngestOptions options, IProgress<IngestProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() =>
        {
            options.Chunking.Validate();
            var files = SourceFinder.Find(roots, options.Corpus);
            return RunAsync(files, (file, isUnchanged) => SourceLoader.Load(file, options.MaxFileBytes, isUnchanged), options, progress, cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Ingests documents given as text (for example a benchmark's corpus records) into <paramref name="corpus"/>, each one
    /// artifact at its path, through the same load → chunk → embed → write path as files. <see cref="IngestOptions.Corpus"/>
    /// and the file size limit do not apply; <see cref="IngestOptions.Prune"/> removes the corpus's other artifacts.
    /// </summary>
    /// <exception cref="ArgumentException">A blank corpus name or path, or two documents with the same path.</exception>
    public Task<IngestReport> IngestDocumentsAsync(
        string corpus, IEnumerable<SourceDocument> documents, IngestOptions options, IProgress<IngestProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        options.Chunking.Validate();
        if (string.IsNullOrWhiteSpace(corpus))
        {
            throw new ArgumentException("The corpus name must not be empty.", nameof(corpus));
        }

        var byPath = new Dictionary<string, SourceDocument>(StringComparer.Ordinal);
        foreach (var document in documents)
        {
            if (string.IsNullOrWhiteSpace(document.Path))
            {
                throw new ArgumentException("A document's path must not be empty.", nameof(documents));
            }

            if (!byPath.TryAdd(document.Path, document))
            {
                throw new ArgumentException($"Two documents have the path '{document.Path}'.", nameof(documents));
            }
        }

        var files = byPath.Keys.Order(StringComparer.Ordinal).Select(path => new SourceFile(corpus, $"{corpus}/{path}", path)).ToList();
        return RunAsync(files, (file, isUnchanged) =>
        {
            var document = byPath[file.RelativePath];
            return SourceLoader.FromText(file, document.Kind, document.Content, isUnchanged);
        }, options, progress, cancellationToken);
    }

    /// <summary>Load → chunk → embed → write, batch by batch, for files found on disk or documents given as text.</summary>
    private async Task<IngestReport> RunAsync(
        List<SourceFile> files, Func<SourceFile, Func<string, bool>, LoadedSource> load, IngestOptions options, IProgress<IngestProgress>? progress,
        CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var activity = Instrumentation.Source.StartActivity("ingest");
        activity?.SetTag(Tags.Corpus, string.Join(",", files.Select(f => f.Corpus).Distinct()));
        var chunker = new Chunker(tokenizer, options.Chunking);
        var stored = files.Select(f => f.Corpus).Distinct().ToDictionary(c => c, index.Artifacts, StringComparer.Ordinal);
        var tally = new Tally();
        var skipped = new List<SkippedFile>();
        int done = 0;

        foreach (var batch in files.Chunk(Math.Max(1, options.BatchSize)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new IngestProgress(done, files.Count, batch[0].RelativePath));
            var prepared = new List<(PreparedArtifact Artifact, StoredArtifact? Previous)>();
            foreach (var (loaded, chunks) in Prepare(batch, load, stored, chunker, cancellationToken))
            {
                var previous = stored[loaded.File.Corpus].GetValueOrDefault(loaded.File.RelativePath);
                tally.Seen(loaded.File);
                if (loaded.SkipReason is not null)
                {
                    skipped.Add(new SkippedFile(Display(loaded.File), loaded.SkipReason));
                    tally.Unsee(loaded.File);
                }
                else if (loaded.Content is null)
                {
                    tally.Unchanged++;
                }
                else
                {
                    prepared.Add((new PreparedArtifact(loaded.File.Corpus, loaded.File.RelativePath, loaded.Kind!.Value, loaded.ContentHash,
                        chunker.Options.Fingerprint, loaded.Content, loaded.Bytes, chunks!), previous));
                }

                tally.BytesRead += loaded.Bytes;
            }

            Write(prepared, tally);
            done += batch.Length;
        }

        int removed = options.Prune ? Prune(stored, tally) : 0;
        progress?.Report(new IngestProgress(files.Count, files.Count, string.Empty));
        if (embedder is not null)
        {
            await new VectorIndexer(index, embedder).FillAsync(progress is null ? null : new Progress<VectorProgress>(v =>
                progress.Report(new IngestProgress(files.Count, files.Count, string.Empty) { Vectors = v })), cancellationToken);
        }

        var (spans, tokens) = tally.Totals(index);
        activity?.SetTag(Tags.Documents, tally.SeenCount);
        activity?.SetTag(Tags.Spans, spans);
        activity?.SetTag(Tags.Bytes, tally.BytesRead);
        return new IngestReport(tally.SeenCount, spans, tokens, tally.Added, tally.Updated, tally.Unchanged, removed, skipped.Count,
            skipped.OrderBy(s => s.Path, StringComparer.Ordinal).ToList(), clock.ElapsedMilliseconds, tally.BytesRead);
    }

    /// <summary>Load → chunk for a batch, in parallel but in file order.</summary>
    private IEnumerable<(LoadedSource Loaded, IReadOnlyList<Chunk>? Chunks)> Prepare(
        SourceFile[] batch, Func<SourceFile, Func<string, bool>, LoadedSource> load, Dictionary<string, IReadOnlyDictionary<string, StoredArtifact>> stored,
        Chunker chunker, CancellationToken cancellationToken) =>
        batch
            .AsParallel().AsOrdered().WithCancellation(cancellationToken)
            .Select(f => load(f, hash =>
                stored[f.Corpus].TryGetValue(f.RelativePath, out var s) && s.ContentHash == hash && s.Chunking == chunker.Options.Fingerprint))
            .Select(loaded =>
            {
                return loaded.Content is null ? (loaded, (IReadOnlyList<Chunk>?)null) : (loaded, chunker.Split(loaded.Content, loaded.Kind!.Value));
            });

    private void Write(List<(PreparedArtifact Artifact, StoredArtifact? Previous)> prepared, Tally tally)
    {
        index.Write(prepared);
        tally.Added += prepared.Count(p => p.Previous is null);
        tally.Updated += prepared.Count(p => p.Previous is not null);
    }

    private int Prune(Dictionary<string, IReadOnlyDictionary<string, StoredArtifact>> stored, Tally tally) =>
        index.Delete([.. stored.SelectMany(corpus => corpus.Value.Where(a => !tally.WasFound(corpus.Key, a.Key)).Select(a => a.Value.Id))]);

    private static string Display(SourceFile file) => $"{file.Corpus}/{file.RelativePath}";

    /// <summary>Running counts of one ingest run.</summary>
    private sealed class Tally
    {
        private readonly HashSet<(string Corpus, string Path)> _seen = [];
        private readonly HashSet<(string Corpus, string Path)> _found = [];

        public int Added { get; set; }

        public int Updated { get; set; }

        public int Unchanged { get; set; }

        public long BytesRead { get; set; }

        public int SeenCount => _seen.Count;

        public void Seen(SourceFile file)
        {
            _seen.Add((file.Corpus, file.RelativePath));
            _found.Add((file.Corpus, file.RelativePath));
        }

        // A skipped file still exists, so pruning keeps what was stored for it; it just is not counted as ingested.
        public void Unsee(SourceFile file) => _seen.Remove((file.Corpus, file.RelativePath));

        public bool WasFound(string corpus, string path) => _found.Contains((corpus, path));

        public (long Spans, long Tokens) Totals(ISpanIndex index)
        {
            long spans = 0, tokens = 0;
            foreach (var corpus in _seen.Select(s => s.Corpus).Distinct())
            {
                foreach (var (path, totals) in index.SpanTotals(corpus))
                {
                    if (_seen.Contains((corpus, path)))
                    {
                        spans += totals.Spans;
                        tokens += totals.Tokens;
                    }
                }
            }

            return (spans, tokens);
        }
    }
}
