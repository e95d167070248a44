using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ContextCompiler.Core.Ingest;
using ContextCompiler.Engine.Assets;
using ContextCompiler.Engine.Corpora;
using ContextCompiler.Core.Tokenization;
using ContextCompiler.Engine.Embedding;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Ingest;
using Spectre.Console;

namespace ContextCompiler.Cli.Commands;

/// <summary>
/// <c>contextc ingest PATH... [--db FILE] [--corpus NAME] [--tenant T] [--prune] [--json] [--model M]</c>: text first, then
/// vectors. Without <c>--tenant</c> the corpora are the operator's (shared with every tenant); with it, the tenant's own
/// corpus (key <c>T/NAME</c>), created if it does not exist, as if the tenant had uploaded the files.
/// </summary>
internal static class IngestCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("PATH") { Description = "Folders (or files) to ingest.", Arity = ArgumentArity.OneOrMore };
        var db = CliShared.DatabaseOption();
        var corpus = new Option<string?>("--corpus") { Description = "Corpus name (default: each folder's name)." };
        var tenant = new Option<string?>("--tenant")
        {
            Description = "Ingest into this tenant's own corpus (created if missing) instead of a shared operator corpus.",
        };
        var prune = new Option<bool>("--prune") { Description = "Remove stored artifacts whose files are gone." };
        var json = CliShared.JsonOption("Print one JSON object with the run's counts.");
        var maxTokens = new Option<int>("--max-tokens") { Description = "Largest span in tokens.", DefaultValueFactory = _ => new ChunkingOptions().MaxTokens };
        var overlap = new Option<int>("--overlap") { Description = "Tokens repeated between spans cut for size.", DefaultValueFactory = _ => 0 };
        var maxBytes = new Option<long>("--max-file-bytes") { Description = "Skip files larger than this.", DefaultValueFactory = _ => 4L * 1024 * 1024 };
        var model = CliShared.ModelOption();

        var command = new Command("ingest", "Index folders of documents and code into the span index.")
        {
            paths, db, corpus, tenant, prune, json, maxTokens, overlap, maxBytes, model,
        };
        command.SetAction((result, cancellation) => CliShared.Run(result.InvocationConfiguration.Error, async () =>
        {
            var output = result.InvocationConfiguration.Output;
            var roots = result.GetValue(paths)!;
            var options = new IngestOptions
            {
                Corpus = result.GetValue(corpus),
                Prune = result.GetValue(prune),
                MaxFileBytes = result.GetValue(maxBytes),
                Chunking = new ChunkingOptions { MaxTokens = result.GetValue(maxTokens), OverlapTokens = result.GetValue(overlap) },
            };
            options.Chunking.Validate();
            using var services = CliShared.Services(result.GetValue(db)!, result.GetValue(model));
            if (result.GetValue(tenant) is { } owner)
            {
                options = options with { Corpus = TenantCorpus(services.GetRequiredService<ICorpusStore>(), owner, options.Corpus, roots) };
            }

            var index = services.GetRequiredService<ISpanIndex>();
            var ingestor = new CorpusIngestor(index, services.GetRequiredService<ITokenizer>(), services.GetRequiredService<IndexEmbedder>().Passages);
            bool asJson = result.GetValue(json);

            var report = asJson || Console.IsOutputRedirected
                ? await ingestor.IngestAsync(roots, options, new LineProgress(), cancellation)
                : await WithProgressBar(ingestor, roots, options, cancellation);

            if (asJson)
            {
                output.WriteLine(JsonSerializer.Serialize(new
                {
                    corpus = options.Corpus,
                    artifacts = report.Artifacts,
                    spans = report.Spans,
                    tokens = report.Tokens,
                    added = report.Added,
                    updated = report.Updated,
                    unchanged = report.Unchanged,
                    removed = report.Removed,
                    skipped = report.Skipped,
                    elapsedMs = report.ElapsedMs,
                    skippedFiles = report.SkippedFiles,
                }, CliShared.Json));
            }
            else
            {
                output.WriteLine($"{report.Artifacts} artifacts, {report.Spans} spans, {report.Tokens} tokens " +
                    $"(added {report.Added}, updated {report.Updated}, unchanged {report.Unchanged}, removed {report.Removed}, skipped {report.Skipped}) " +
                    $"in {report.ElapsedMs} ms, vectors by {index.Model.Id} -> {services.GetRequiredService<IStoreStatus>().Location}");
                foreach (var skip in report.SkippedFiles)
                {
                    output.WriteLine($"  skipped {skip.Path}: {skip.Reason}");
                }
            }

            return 0;
        }));
        return command;
    }

    /// <summary>
    /// The key of <paramref name="tenant"/>'s corpus to ingest into, created when the tenant has none of that name. The name
    /// is <paramref name="corpus"/>, else the one folder's name (as for an operator corpus); a tenant corpus is one corpus,
    /// so several folders need --corpus.
    /// </summary>
    private static string TenantCorpus(ICorpusStore corpora, string tenant, string? corpus, string[] roots)
    {
        if (tenant.Length == 0 || tenant.Contains('/'))
        {
            throw new ArgumentException($"A tenant is a non-empty name without '/': '{tenant}' is not.");
        }

        if (corpus is null && roots.Length != 1)
        {
            throw new ArgumentException("With --tenant and several paths, give --corpus: they all go into one corpus of the tenant's.");
        }

        // Checked before the corpus is created, so a mistyped path leaves no empty corpus behind.
        if (roots.FirstOrDefault(r => !File.Exists(r) && !Directory.Exists(r)) is { } missing)
        {
            throw new DirectoryNotFoundException($"'{missing}' is neither a folder nor a file.");
        }

        string name = corpus ?? FolderName(roots[0]);
        try
        {
            return corpora.OwnedKey(tenant, name);
        }
        catch (CorpusNotFoundException)
        {
            // Create refuses a name the tenant can read as a shared corpus, so the tenant's compiles stay unambiguous.
            return corpora.Create(tenant, name).Key;
        }
    }

    // The corpus name SourceFinder would give: a folder's own name, or for a file the name of the folder it is in.
    private static string FolderName(string root)
    {
        string full = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar);
        return Path.GetFileName(File.Exists(full) ? Path.GetDirectoryName(full)! : full);
    }

    private static async Task<IngestReport> WithProgressBar(CorpusIngestor ingestor, string[] roots, IngestOptions options, CancellationToken cancellation)
    {
        IngestReport? report = null;
        await AnsiConsole.Progress().AutoClear(true).StartAsync(async context =>
        {
            var task = context.AddTask("ingesting", maxValue: 1);
            ProgressTask? vectors = null;
            var progress = new Progress<IngestProgress>(p =>
            {
                task.MaxValue = Math.Max(1, p.Total);
                task.Value = p.Done;
                task.Description = p.Current.Length == 0 ? "text indexed" : Markup.Escape(p.Current);
                if (p.Vectors is { } v)
                {
                    vectors ??= context.AddTask("embedding", maxValue: 1);
                    vectors.MaxValue = Math.Max(1, v.Total);
                    vectors.Value = v.Done;
                    vectors.Description = $"vectors {v}";
                }
            });
            report = await ingestor.IngestAsync(roots, options, progress, cancellation);
            task.Value = task.MaxValue;
        });
        return report!;
    }

    /// <summary>Progress for logs and pipes: a line on stderr at each tenth of the way.</summary>
    private sealed class LineProgress : IProgress<IngestProgress>
    {
        private int _lastTenth = -1;

        private int _lastVectorTenth = -1;

        public void Report(IngestProgress value)
        {
            if (value.Vectors is { } v)
            {
                int vectorTenth = v.Total == 0 ? 10 : (int)((long)v.Done * 10 / v.Total);
                if (vectorTenth != _lastVectorTenth)
                {
                    _lastVectorTenth = vectorTenth;
                    Console.Error.WriteLine($"ingest: vectors {v.Done}/{v.Total} spans");
                }

                return;
            }

            int tenth = value.Total == 0 ? 10 : value.Done * 10 / value.Total;
            if (tenth != _lastTenth)
            {
                _lastTenth = tenth;
                Console.Error.WriteLine($"ingest: {value.Done}/{value.Total} files");
            }
        }
    }
}
