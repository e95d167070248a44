using ContextCompiler.Core.Telemetry;
using ContextCompiler.Engine.Index;

namespace ContextCompiler.Server;

/// <summary>
/// Embeds, in the background, every span that has no vector yet: on a fresh database the text is indexed at start and
/// answers compiles at once, while vectors fill in with progress in the log and in <c>/health</c>. It then looks again
/// every <see cref="Interval"/>, for spans another process (such as <c>contextc ingest</c>) added, or at once when
/// <see cref="Wake"/> says this process added some (a document upload).
/// </summary>
public sealed class VectorFiller : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly VectorIndexer indexer;
    private readonly ISpanIndex store;
    private readonly ILogger<VectorFiller> logger;
    private readonly IDisposable _pendingGauge;
    private VectorProgress? _status;

    /// <summary>Fills <paramref name="store"/>'s missing vectors with <paramref name="indexer"/>, and reports how many are pending.</summary>
    public VectorFiller(VectorIndexer indexer, ISpanIndex store, ILogger<VectorFiller> logger)
    {
        (this.indexer, this.store, this.logger) = (indexer, store, logger);
        // The figure last seen, not a fresh count: a collector's poll must not query the database.
        _pendingGauge = Instrumentation.ObserveVectorsPending(() => _status is { } s ? s.Total - s.Done : 0);
    }

    /// <summary>Asks for a look now: spans were added that need vectors. Calls while a look is pending add nothing.</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // A look is already pending; it will see these spans too.
        }
    }

    /// <summary>Spans with vectors out of all spans, as last seen.</summary>
    public VectorProgress Status => _status ??= indexer.Status();

    /// <inheritdoc />
    public override void Dispose()
    {
        _pendingGauge.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let the host finish starting (and take its first requests) before the model competes for the cores.
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var before = indexer.Status();
                _status = before;
                if (!before.Complete)
                {
                    logger.LogInformation("Vectors ({Model}): {Done}/{Total} spans; embedding the rest in the background", store.Model.Id, before.Done, before.Total);
                    int logged = before.Done;
                    var report = await indexer.FillAsync(new Progress<VectorProgress>(p =>
                    {
                        _status = p;
                        if (p.Complete || p.Done - logged >= 1000)
                        {
                            logged = p.Done;
                            logger.LogInformation("Vectors: {Done}/{Total}", p.Done, p.Total);
                        }
                    }), stoppingToken);
                    _status = indexer.Status();
                    logger.LogInformation("Vectors complete: {Embedded} spans embedded in {Seconds:F1} s", report.Embedded, report.ElapsedMs / 1000.0);
                }

                await _wake.WaitAsync(Interval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A failure here must not stop the service: lexical retrieval keeps working, and the next round retries.
                logger.LogError(e, "Filling vectors failed; retrying in {Seconds} s", Interval.TotalSeconds);
                await Task.Delay(Interval, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }
}
