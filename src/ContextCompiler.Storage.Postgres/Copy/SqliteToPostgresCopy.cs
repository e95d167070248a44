using System.Diagnostics;
using ContextCompiler.Core.Errors;
using ContextCompiler.Engine.Index;
using ContextCompiler.Storage.Sqlite;

namespace ContextCompiler.Storage.Postgres.Copy;

/// <summary>
/// Moves a SQLite store into an empty, migrated PostgreSQL database (issue 17's way onto several replicas): corpora,
/// documents with their exact text, spans with their vectors as stored (nothing is embedded again), sessions, messages
/// with working sets and citation checks, turn budgets and unexpired idempotency keys, keeping every id. Then it reads
/// both sides again and compares each table's row count and content hash.
/// </summary>
/// <param name="clock">Decides which idempotency keys are unexpired (default: the system clock).</param>
public sealed class SqliteToPostgresCopy(IndexStore source, PostgresDatabase target, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <summary>Copies, then verifies; the report says per table what each side holds and whether the two agree.</summary>
    /// <exception cref="CopyTargetNotEmptyException">The target already holds data (a copy is not repeated over it).</exception>
    /// <exception cref="InvalidOperationException">The source's vectors are not the 384 dimensions PostgreSQL stores.</exception>
    public CopyReport Run()
    {
        var watch = Stopwatch.StartNew();
        using var sqlite = source.OpenConnection();
        using var postgres = target.DataSource.OpenConnection();
        var to = new PostgresTarget(postgres);
        var nonEmpty = to.NonEmptyTables();
        if (nonEmpty.Count > 0)
        {
            throw new CopyTargetNotEmptyException(nonEmpty);
        }

        if (source.Model.Dimensions != PostgresSpanIndex.Dimensions)
        {
            throw new InvalidOperationException(
                $"The index's model {source.Model.Id} has {source.Model.Dimensions} dimensions; PostgreSQL stores {PostgresSpanIndex.Dimensions}. " +
                "Re-embed the index with a 384-dimension model (contextc reembed) before copying it.");
        }

        var from = new SqliteSource(sqlite);
        // Read in one SQLite transaction, so that a server still writing cannot hand the copy a torn state.
        using (var snapshot = sqlite.BeginTransaction(deferred: true))
        {
            var corpora = from.Corpora();
            var documents = from.Documents();
            var spans = from.Spans();
            var sessions = from.Sessions();
            var messages = from.Messages();
            var budgets = from.TurnBudgets();
            var keys = from.IdempotencyKeys(_clock.GetUtcNow());
            snapshot.Commit();

            // Parents before children, for the foreign keys.
            to.WriteCorpora(corpora);
            to.WriteDocuments(documents);
            to.WriteSpans(spans, documents);
            to.WriteSessions(sessions);
            to.WriteMessages(messages);
            to.WriteTurnBudgets(budgets);
            to.WriteIdempotencyKeys(keys);
            // Fresh statistics, so that the first compiles read the bm25 and HNSW indexes instead of scoring whole corpora.
            PgSql.Execute(postgres, null, "ANALYZE");
            var copied = watch.Elapsed;

            var results = new List<CopiedTable>
            {
                Compare("corpora", corpora, to.Corpora()),
                Compare("documents", documents, to.Documents()),
                Compare("spans", spans, to.Spans()),
                Compare("sessions", sessions, to.Sessions()),
                Compare("messages", messages, to.Messages()),
                Compare("turn_budgets", budgets, to.TurnBudgets()),
                Compare("idempotency_keys", keys, to.IdempotencyKeys()),
            };
            return new CopyReport(results, spans.Count(s => s.Embedding is not null), copied, watch.Elapsed);
        }
    }

    private static CopiedTable Compare<T>(string name, IReadOnlyList<T> source, IReadOnlyList<T> target) where T : ICopyRow =>
        new(name, source.Count, target.Count, CopyKeys.Hash(source.Cast<ICopyRow>()), CopyKeys.Hash(target.Cast<ICopyRow>()));
}

/// <summary>One table of a copy: rows and content hash on each side.</summary>
public sealed record CopiedTable(string Name, int SourceRows, int TargetRows, string SourceHash, string TargetHash)
{
    /// <summary>Both sides hold the same rows.</summary>
    public bool Verified => SourceRows == TargetRows && SourceHash == TargetHash;
}

/// <summary>What a copy moved and whether every table verified.</summary>
/// <param name="Tables">Per table, in the order written.</param>
/// <param name="Vectors">Spans copied with a vector.</param>
/// <param name="CopyTime">Reading and writing.</param>
/// <param name="TotalTime">With the verification.</param>
public sealed record CopyReport(IReadOnlyList<CopiedTable> Tables, int Vectors, TimeSpan CopyTime, TimeSpan TotalTime)
{
    /// <summary>Every table verified.</summary>
    public bool Verified => Tables.All(t => t.Verified);
}

/// <summary>The copy's target already holds data; copying again over it would duplicate or collide with it.</summary>
public sealed class CopyTargetNotEmptyException(IReadOnlyList<string> tables)
    : ConflictError($"The target database is not empty ({string.Join(", ", tables)} hold rows); copy into a freshly migrated, empty database.");
