using ContextCompiler.Engine.Assets;
using ContextCompiler.Engine.Index;
using ContextCompiler.Engine.Ingest;
using ContextCompiler.Engine.Stores;
using ContextCompiler.Engine.Sessions;
using Microsoft.Extensions.Options;

namespace ContextCompiler.Server;

/// <summary>
/// Runs once before the server takes requests: deletes expired idempotency keys and idle sessions, ingests the default
/// corpus into an empty index, then loads the in-memory text index, so that the first compile does not pay for it and
/// <c>/health/ready</c> can say it is loaded.
/// </summary>
internal sealed class StartupTasks(
    IStore store, SessionStore sessions, OfflineAssets assets, IOptions<ServerOptions> options, ILogger<StartupTasks> logger) : IHostedService
{
    private volatile bool _completed;

    /// <summary>Whether every start-up task has finished.</summary>
    public bool Completed => _completed;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await RunAsync(cancellationToken);
        store.LoadTextIndex();
        _completed = true;
    }

    // Replicas that start together take turns: the first purges and ingests, the others then find nothing to do.
    private Task RunAsync(CancellationToken cancellationToken) => store.ExclusiveAsync("startup", () => RunOnceAsync(cancellationToken), cancellationToken);

    private async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        int expired = store.IdempotencyKeys.PurgeExpired();
        if (expired > 0)
        {
            logger.LogInformation("Deleted {Count} expired idempotency keys", expired);
        }

        int purged = sessions.PurgeIdle();
        if (purged > 0)
        {
            logger.LogInformation("Deleted {Count} sessions idle for more than {Days} days", purged, sessions.Options.RetentionDays);
        }

        if (!options.Value.IngestOnStart || store.SpanIndex.ArtifactCount() > 0)
        {
            return;
        }

        var corpus = options.Value.CorpusPath ?? Engine.Assets.RepositoryLayout.DefaultCorpus();
        if (corpus is null || !Directory.Exists(corpus))
        {
            logger.LogWarning("The index {Path} is empty and no corpus folder was found to ingest; set {Section}:CorpusPath", store.Status.Location, ServerOptions.Section);
            return;
        }

        logger.LogInformation("The index is empty; ingesting {Corpus} into {Path}", corpus, store.Status.Location);
        var progress = new Progress<IngestProgress>(p =>
        {
            if (p.Total > 0 && (p.Done == p.Total || p.Done % 64 == 0))
            {
                logger.LogInformation("Ingest: {Done}/{Total} files", p.Done, p.Total);
            }
        });
        // Text only: it is searchable when this returns; VectorFiller embeds the spans in the background.
        var report = await new CorpusIngestor(store.SpanIndex, assets.Tokenizer())
            .IngestAsync([corpus], new IngestOptions { Corpus = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(corpus))) }, progress, cancellationToken);
        logger.LogInformation("Ingested {Artifacts} artifacts, {Spans} spans in {Ms} ms", report.Artifacts, report.Spans, report.ElapsedMs);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
