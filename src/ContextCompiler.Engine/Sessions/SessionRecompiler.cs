using System.Text.Json;
using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Evaluate;
using ContextCompiler.Engine.Corpora;

namespace ContextCompiler.Engine.Sessions;

/// <summary>What to change when a session's turns are compiled again.</summary>
/// <param name="Budget">Budget of every turn; null keeps each turn's stored budget.</param>
/// <param name="Overrides">
/// Compiler options as <c>key=value</c> (the keys of <see cref="CompilerOptionsParser.Keys"/>), applied on top of each
/// turn's recorded configuration (<see cref="Manifest.Config"/>), so that only the named settings change.
/// </param>
public sealed record RecompileRequest(int? Budget = null, IReadOnlyList<string>? Overrides = null);

/// <summary>
/// Replays a session's stored user turns through the compiler again, with each turn's recorded query, retrieval query,
/// configuration and budget unless overridden, and compares each new working set with the stored one. Reads only:
/// nothing is written, so the stored session replays byte for byte afterwards.
/// </summary>
public sealed class SessionRecompiler(SessionStore sessions, WorkingSetCompiler compiler, ICorpusStore corpora, IDocumentStore documents)
{
    /// <summary>Compiles every stored user turn of the session again and reports the differences.</summary>
    /// <exception cref="ArgumentException">A budget below 1 or above the store's maximum, or an unknown or invalid option.</exception>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    public async Task<RecompileReport> RecompileAsync(string tenant, string id, RecompileRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        int max = sessions.Options.MaxBudget;
        if (request.Budget is { } b && (b < 1 || b > max))
        {
            throw new ArgumentException($"budget must be between 1 and {max}, not {b}.");
        }

        var overrides = request.Overrides ?? [];
        // Checked once against the defaults, so that a bad option is refused even for a session with no turns.
        CompilerOptionsParser.Apply(new CompilerOptions(), overrides);

        var replay = sessions.Replay(tenant, id);
        // Today's readable corpora: a corpus deleted since, or no longer shared, is not retrieved from again.
        var readable = corpora.ReadableFilter(tenant);
        var turns = new List<RecompiledTurn>();
        foreach (var turn in replay.Turns)
        {
            if (turn is not { UserMessage: { } user, WorkingSet: { } json })
            {
                continue;
            }

            var stored = Read(json, user.Id);
            var options = CompilerOptionsParser.Apply(stored.Manifest.Config, overrides);
            int budget = request.Budget ?? stored.Budget;
            var fresh = await compiler.CompileAsync(
                new CompileRequest(stored.Query, budget, readable, options, RetrievalQuery: stored.RetrievalQuery, RetrievalContext: stored.RetrievalContext,
                    Tokenizer: stored.Manifest.Tokenizer, RetrievalContextMessages: stored.RetrievalContextMessages), cancellationToken);
            turns.Add(RecompiledTurn.From(user.Sequence, user.Id, stored.Query, stored.Budget, budget, stored.Citations.Count, fresh.Citations.Count,
                WorkingSetDiff.Compare(stored, fresh)) with { StaleCitations = Stale(stored, user.CreatedAt) });
        }

        return new RecompileReport(replay.Session.Id, request.Budget, overrides, turns, RecompileSummary.Of(turns));
    }

    // Cited documents written after the turn (changed) or no longer there (deleted).
    private List<StaleCitation> Stale(WorkingSet stored, DateTimeOffset turnTime)
    {
        var written = documents.LastWritten(stored.Citations.Select(c => (c.Corpus, c.Path)));
        return stored.Citations
            .Select(c => written[(c.Corpus, c.Path)] switch
            {
                null => new StaleCitation(c.N, c.Corpus, c.Path, c.StartLine, c.EndLine, "deleted"),
                { } at when at > turnTime => new StaleCitation(c.N, c.Corpus, c.Path, c.StartLine, c.EndLine, "changed"),
                _ => null,
            })
            .OfType<StaleCitation>()
            .ToList();
    }

    // A stored working set that cannot be read is damage in the database, not a bad request: it must not surface as a 400.
    private static WorkingSet Read(RawJson json, string messageId)
    {
        try
        {
            return JsonSerializer.Deserialize<WorkingSet>(json.Json, SessionJson.Options)
                ?? throw new InvalidOperationException($"The working set stored for message '{messageId}' is null.");
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"The working set stored for message '{messageId}' cannot be read: {e.Message}", e);
        }
    }
}
