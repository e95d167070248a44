using ContextCompiler.Engine.Index;
namespace ContextCompiler.Storage.Sqlite;

/// <summary>
/// The schema, as numbered scripts applied in order and recorded in <c>schema_version</c>.
/// Never edit a released script: add the next number.
/// </summary>
internal static class Migrations
{
    public static readonly IReadOnlyList<(int Version, string Sql)> All =
    [
        (1, """
            CREATE TABLE meta (
                key   TEXT PRIMARY KEY,
                value TEXT NOT NULL
            );

            CREATE TABLE artifacts (
                id           INTEGER PRIMARY KEY,
                corpus       TEXT NOT NULL,
                path         TEXT NOT NULL,
                kind         TEXT NOT NULL,
                content_hash TEXT NOT NULL,
                chunking     TEXT NOT NULL,
                content      TEXT NOT NULL,
                bytes        INTEGER NOT NULL,
                ingested_at  TEXT NOT NULL,
                UNIQUE (corpus, path)
            );

            CREATE TABLE spans (
                id          INTEGER PRIMARY KEY,
                artifact_id INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
                ordinal     INTEGER NOT NULL,
                start_line  INTEGER NOT NULL CHECK (start_line >= 1),
                end_line    INTEGER NOT NULL CHECK (end_line >= start_line),
                heading     TEXT NOT NULL,
                text        TEXT NOT NULL,
                tokens      INTEGER NOT NULL CHECK (tokens >= 0),
                UNIQUE (artifact_id, ordinal)
            );

            -- Contentless: the span text lives once, in spans; FTS keeps only its index.
            CREATE VIRTUAL TABLE span_fts USING fts5(
                title, heading, body,
                content = '', contentless_delete = 1,
                tokenize = 'porter unicode61 remove_diacritics 2'
            );
            """),
        (2, """
            -- Conversation sessions. Metadata and default budgets are JSON text owned by the caller.
            CREATE TABLE sessions (
                id            TEXT PRIMARY KEY,
                tenant        TEXT NOT NULL,
                user_id       TEXT,
                status        TEXT NOT NULL CHECK (status IN ('open', 'closed')),
                metadata      TEXT,
                budgets       TEXT,
                created_at    TEXT NOT NULL,
                updated_at    TEXT NOT NULL,
                message_count INTEGER NOT NULL DEFAULT 0 CHECK (message_count >= 0)
            );
            CREATE INDEX sessions_by_tenant_user ON sessions (tenant, user_id, status);

            CREATE TABLE messages (
                id         TEXT PRIMARY KEY,
                session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                sequence   INTEGER NOT NULL CHECK (sequence >= 1),
                role       TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system', 'tool')),
                content    TEXT NOT NULL,
                metadata   TEXT,
                created_at TEXT NOT NULL,
                UNIQUE (session_id, sequence)
            );

            -- The working set exactly as it was returned, so that a replay is byte-identical.
            CREATE TABLE working_sets (
                message_id TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
                json       TEXT NOT NULL
            );
            """),
        (3, """
            -- Idempotency-Key of a write, saved in the write's own transaction with the response it produced, so that a
            -- retried request is answered from here after a crash or restart instead of writing twice.
            CREATE TABLE idempotency_keys (
                tenant      TEXT NOT NULL,
                key         TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                status      INTEGER NOT NULL,
                body        TEXT NOT NULL,
                location    TEXT,
                created_at  TEXT NOT NULL,
                expires_at  TEXT NOT NULL,
                PRIMARY KEY (tenant, key)
            ) WITHOUT ROWID;
            CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);
            """),
        (4, """
            -- An assistant message's citation check against the working set of the turn it answers (JSON), stored with it.
            ALTER TABLE messages ADD COLUMN citation_check TEXT;
            """),
        (5, """
            -- Corpora as a resource. An operator's corpus (tenant NULL) has its name as key; a tenant's corpus has the key
            -- 'tenant/name', so two tenants may use the same name. Shared corpora are readable by every tenant.
            CREATE TABLE corpora (
                key        TEXT PRIMARY KEY,
                name       TEXT NOT NULL,
                tenant     TEXT,
                shared     INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL
            );
            CREATE INDEX corpora_by_tenant ON corpora (tenant);
            -- Corpora ingested before corpora were a resource stay readable by everyone, as they were.
            INSERT INTO corpora (key, name, tenant, shared, created_at)
                SELECT DISTINCT corpus, corpus, NULL, 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM artifacts;
            -- A document uploaded over HTTP keeps the text and media type it was sent with, so GET returns it exactly;
            -- content holds the converted text that was chunked.
            ALTER TABLE artifacts ADD COLUMN original TEXT;
            ALTER TABLE artifacts ADD COLUMN media_type TEXT;
            """),
        (6, """
            -- A turn's history and total budgets and its history's tokens, for the web pages' budget bars; the working set
            -- (with its own budget and tokens) stays in working_sets, byte for byte. Turns taken before have no row.
            CREATE TABLE turn_budgets (
                message_id     TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
                history_budget INTEGER NOT NULL,
                history_tokens INTEGER NOT NULL,
                total_budget   INTEGER
            );
            """),
        (7, RewriteTimestamps(
            ("schema_version", "applied_at"), ("artifacts", "ingested_at"), ("corpora", "created_at"), ("sessions", "created_at"),
            ("sessions", "updated_at"), ("messages", "created_at"), ("idempotency_keys", "created_at"), ("idempotency_keys", "expires_at"))),
        (8, """
            -- The web pages' Data Protection key ring (XML key elements), so the sign-in cookie outlives a restart.
            CREATE TABLE data_protection_keys (
                id            INTEGER PRIMARY KEY,
                friendly_name TEXT NOT NULL UNIQUE,
                xml           TEXT NOT NULL,
                created_at    TEXT NOT NULL
            );
            """),
        (9, """
            -- A session's own compaction settings (JSON), and each compaction: the summary of messages 1..through_sequence,
            -- built from the previous one plus from_sequence..through_sequence, made after message at_sequence. The messages
            -- themselves are never changed or deleted by a compaction.
            ALTER TABLE sessions ADD COLUMN compaction TEXT;
            CREATE TABLE compactions (
                id               TEXT PRIMARY KEY,
                session_id       TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                number           INTEGER NOT NULL CHECK (number >= 1),
                from_sequence    INTEGER NOT NULL,
                through_sequence INTEGER NOT NULL CHECK (through_sequence >= from_sequence),
                at_sequence      INTEGER NOT NULL,
                summary          TEXT NOT NULL,
                token_count      INTEGER NOT NULL,
                summarizer       TEXT NOT NULL,
                model            TEXT,
                prompt_hash      TEXT,
                trigger          TEXT NOT NULL,
                fallback_reason  TEXT,
                created_at       TEXT NOT NULL,
                UNIQUE (session_id, number)
            );
            """),
    ];

    // Stored times before migration 7 came in two other forms than Timestamps': .NET's round-trip "O" text with an offset
    // (2026-12-03T13:13:09.1234567+00:00: artifacts, operator corpora, schema_version) and SQLite's strftime %f with
    // milliseconds (2026-12-03T13:13:09.123Z: the corpora migration 5 registered). Both are rewritten to the one form;
    // rows already in it match neither pattern and are left alone. strftime moves an offset time to UTC (date included);
    // the fraction is kept as written, since offsets are whole minutes.
    private static string RewriteTimestamps(params (string Table, string Column)[] columns)
    {
        const string Seconds = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]";
        const string RoundTrip = Seconds + ".[0-9][0-9][0-9][0-9][0-9][0-9][0-9][+-][0-9][0-9]:[0-9][0-9]";
        const string Milliseconds = Seconds + ".[0-9][0-9][0-9]Z";
        return string.Concat(columns.Select(c => $"""
            UPDATE {c.Table} SET {c.Column} = strftime('%Y-%m-%dT%H:%M:%S', {c.Column}) || substr({c.Column}, 20, 8) || 'Z'
                WHERE {c.Column} GLOB '{RoundTrip}';
            UPDATE {c.Table} SET {c.Column} = substr({c.Column}, 1, 23) || '0000Z'
                WHERE {c.Column} GLOB '{Milliseconds}';

            """));
    }
}
