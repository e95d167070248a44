using System.Diagnostics;
using System.Text.Json;
using ContextCompiler.Core.Compile;
using ContextCompiler.Core.Telemetry;
using ContextCompiler.Engine.Corpora;
using ContextCompiler.Engine.Sessions.Compacting;

namespace ContextCompiler.Engine.Sessions;

/// <summary>
/// Takes a user turn: compact if due → history → retrieval query → compile → store the message with its working set →
/// usage. HTTP, MCP, the CLI, the client integrations and the evaluation runner all take turns through this one path.
/// </summary>
public sealed class TurnService(
    ISessionRepository repository, SessionLocks locks, BudgetResolver budgets, RetrievalQueryBuilder queries, WorkingSetCompiler compiler,
    ICorpusStore corpora, SessionCompactor compactor, SessionStoreOptions options)
{
    /// <summary>
    /// Builds the history within its budget, compiles the working set from the message and the recent conversation, then
    /// stores the message and the serialized working set in one transaction; a failed compile leaves nothing behind.
    /// </summary>
    /// <exception cref="ArgumentException">Empty or oversized message, invalid budgets or compaction settings, or an unknown tokenizer.</exception>
    /// <exception cref="SessionNotFoundException">No such session for this tenant.</exception>
    /// <exception cref="SessionConflictException">The session is closed.</exception>
    /// <exception cref="IdempotencyKeyTakenException">A concurrent request saved the same key first; nothing was written.</exception>
    public async Task<TurnResult> TakeTurnAsync(
        string tenant, string id, TurnRequest request, IdempotencyClaim<TurnResult>? idempotency = null, CancellationToken cancellationToken = default)
    {
        long started = Stopwatch.GetTimestamp();
        using var activity = Instrumentation.Source.StartActivity("turn");
        activity?.SetTag(Tags.Tenant, tenant);
        activity?.SetTag(Tags.Session, id);
        string text = MessageContent.Validate(request.Message, options);
        using var _ = await locks.EnterAsync(tenant, id, cancellationToken);
        var session = repository.Get(tenant, id);
        if (session.Status != SessionStatus.Open)
        {
            throw new SessionConflictException($"Session '{id}' is closed.");
        }

        var earlier = repository.Messages(tenant, id);
        var planned = budgets.Resolve(request.Budgets, session.DefaultBudgets);
        var tokenizer = compiler.TokenizerFor(request.Tokenizer);
        var settings = compactor.SettingsFor(session, request.Compaction);
        // Inside the session lock, so no other turn or compaction of this session runs between the summary and its use.
        var due = await compactor.CompactIfDueAsync(tenant, id, earlier, planned.History, settings, tokenizer, request.SkipOversized, cancellationToken);
        var summary = due.InForce;
        var history = due.History ?? HistoryBuilder.Build(earlier, planned.History, tokenizer, request.SkipOversized, summary);
        var resolved = planned.AfterHistory(history.TokenCount);
        // Only the corpora this tenant may read: its own and the shared ones.
        var readable = corpora.ReadableFilter(tenant);
        var compileRequest = queries.For(earlier, text, resolved.Context, request.Explain, request.Tokenizer, readable, summary?.Summary);
        var workingSet = await compiler.CompileAsync(compileRequest, cancellationToken);

        var json = new RawJson(JsonSerializer.Serialize(workingSet, SessionJson.Options));
        TurnResult Result(Message message) => new(message, json, workingSet.TokenCount, history, resolved.Context, resolved.History,
            UsageMeter.Measure([.. earlier, message], history, planned.History, CompactionPlanner.Evicted(earlier, history, summary), due.Compactions, settings, tokenizer),
            due.Made);
        var budgetRecord = new TurnBudgetRecord(resolved.History, history.TokenCount, planned.SplitTotal);
        Message stored;
        // The turn's one write transaction: the message, its working set, its budgets and its idempotency key.
        using (Instrumentation.Source.StartActivity("turn.store"))
        {
            // The key's response is the turn's reply, which needs the stored message's id and sequence.
            var key = idempotency is null ? null : new IdempotencyClaim<Message>(idempotency.Key, idempotency.Fingerprint, idempotency.Lifetime, m => idempotency.Respond(Result(m)));
            // The lock above serialises this process's turns; the sequence read guards against another process's.
            long read = earlier.Count > 0 ? earlier[^1].Sequence : 0;
            stored = repository.Append(tenant, id, new MessageDraft(MessageRoles.User, text, null, json), budgetRecord, key, read);
        }

        activity?.SetTag(Tags.Budget, resolved.Context);
        activity?.SetTag(Tags.TokensUsed, workingSet.TokenCount);
        activity?.SetTag(Tags.HistoryBudget, resolved.History);
        activity?.SetTag(Tags.HistoryTokens, history.TokenCount);
        Instrumentation.Turns.Add(1);
        Instrumentation.TurnDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        return Result(stored);
    }
}

/// <summary>The one rule for message content, shared by turns and other messages.</summary>
internal static class MessageContent
{
    /// <exception cref="ArgumentException">Empty, whitespace only, or longer than <see cref="SessionStoreOptions.MaxMessageChars"/>.</exception>
    public static string Validate(string? content, SessionStoreOptions options)
    {
        if (string.IsNullOrWhiteSpace(content))
        {
            throw new ArgumentException("The message must not be empty.");
        }

        if (content.Length > options.MaxMessageChars)
        {
            throw new ArgumentException($"The message has {content.Length} characters; at most {options.MaxMessageChars} are allowed.");
        }

        return content;
    }
}
