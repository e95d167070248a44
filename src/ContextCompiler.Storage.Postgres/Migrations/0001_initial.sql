-- The whole service's schema in PostgreSQL (issue 17). Applied once by PostgresDatabase.MigrateAsync, in a transaction.
--
-- Conventions, so the schema can later be distributed by tenant (Citus) without rewriting it:
--   * tenant leads every primary key, unique constraint, foreign key and b-tree index. The operator's own corpora (shared
--     or not) belong to the tenant '' (empty string): NULL cannot be part of a primary key.
--   * Client text that must come back code unit for code unit is bytea holding WTF-8 (ContextCompiler.Core.Text.Wtf8):
--     text rejects NUL (22021) and cannot encode a lone surrogate. A searchable text copy (SearchableText.Of) sits
--     beside it where something searches it.
--   * JSON the service produced and returns byte for byte is text, never jsonb: jsonb reorders keys and drops
--     duplicates, so a replay would not be identical. System.Text.Json escapes NUL and lone surrogates, so it fits text.
--   * Times are timestamptz, written by the service's one clock (no defaults), except schema_migrations.applied_at.

CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_textsearch;

-- Corpora as a resource: a tenant's own, or the operator's (tenant ''); shared ones are readable by every tenant.
CREATE TABLE corpora (
    tenant     text        NOT NULL,
    name       text        NOT NULL,
    shared     boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, name)
);

-- One ingested file or uploaded document. content is the converted text that was chunked; original the text and media
-- type it was sent with (null for files ingested from disk), so GET returns it exactly.
CREATE TABLE documents (
    tenant       text        NOT NULL,
    corpus       text        NOT NULL,
    path         text        NOT NULL,
    kind         text        NOT NULL,
    media_type   text,
    content_hash text        NOT NULL,
    content      bytea       NOT NULL,
    original     bytea,
    bytes        bigint      NOT NULL CHECK (bytes >= 0),
    -- The chunker's settings the spans were cut with: a change re-chunks the document even when its hash is unchanged.
    chunking     text        NOT NULL,
    -- Bumped on every re-ingest; the spans of the current generation are the document's spans.
    generation   bigint      NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant, corpus, path),
    FOREIGN KEY (tenant, corpus) REFERENCES corpora (tenant, name) ON DELETE CASCADE
);

-- The retrievable units. id is what working sets and search results cite; (document, ordinal) is its place.
CREATE TABLE spans (
    tenant     text        NOT NULL,
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    corpus     text        NOT NULL,
    path       text        NOT NULL,
    ordinal    integer     NOT NULL CHECK (ordinal >= 0),
    start_line integer     NOT NULL CHECK (start_line >= 1),
    end_line   integer     NOT NULL CHECK (end_line >= start_line),
    tokens     integer     NOT NULL CHECK (tokens >= 0),
    -- The heading trail above the span, exact (it is cut from client text).
    heading    bytea       NOT NULL,
    -- What BM25 indexes: SearchableText.Of of what the store chooses to make searchable (e.g. title, heading, body).
    text       text        NOT NULL,
    -- The span's text exactly as it was cut, which is what a working set returns.
    exact_text bytea       NOT NULL,
    -- Null until the vector filler has embedded the span (all-MiniLM-L6-v2 and arctic-embed-xs are both 384-d).
    embedding  vector(384),
    generation bigint      NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, corpus, path, ordinal),
    FOREIGN KEY (tenant, corpus, path) REFERENCES documents (tenant, corpus, path) ON DELETE CASCADE
);

-- The vector-fill queue is the spans without a vector: replicas claim work with
--   SELECT ... FROM spans WHERE embedding IS NULL ORDER BY tenant, id LIMIT n FOR UPDATE SKIP LOCKED
-- and this partial index keeps that cheap however large the filled part grows. Re-embedding sets embedding to null.
CREATE INDEX spans_needing_vector ON spans (tenant, id) WHERE embedding IS NULL;

-- Neither index type can lead with tenant; queries filter by tenant and corpus around them (PostgresSpanSearch).
CREATE INDEX spans_embedding_hnsw ON spans USING hnsw (embedding vector_cosine_ops);
-- pg_textsearch keeps its statistics (document count, average length, term frequencies) over the whole index, every
-- tenant's spans together, as FTS5 does over the whole SQLite index.
CREATE INDEX spans_bm25 ON spans USING bm25 (text) WITH (text_config = 'english');

-- message_count is the last sequence handed out: a message takes message_count + 1 in the transaction that increments it,
-- so sequences are gapless and two replicas appending to one session are serialised by the session row's lock.
CREATE TABLE sessions (
    tenant        text        NOT NULL,
    id            text        NOT NULL,
    user_id       text,
    status        text        NOT NULL CHECK (status IN ('open', 'closed')),
    message_count integer     NOT NULL DEFAULT 0 CHECK (message_count >= 0),
    -- The client's metadata as exact JSON text, and the session's default budgets (JSON).
    metadata      text,
    budgets       text,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX sessions_by_user ON sessions (tenant, user_id, status);

CREATE TABLE messages (
    tenant         text        NOT NULL,
    session_id     text        NOT NULL,
    sequence       integer     NOT NULL CHECK (sequence >= 1),
    id             text        NOT NULL,
    role           text        NOT NULL CHECK (role IN ('user', 'assistant', 'system', 'tool')),
    content        bytea       NOT NULL,
    metadata       text,
    -- A user turn's working set exactly as it was returned, so that a replay is byte-identical.
    working_set    text,
    -- An assistant message's citation check against the working set of the turn it answers.
    citation_check text,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant, session_id, sequence),
    UNIQUE (tenant, id),
    FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, id) ON DELETE CASCADE
);

-- A turn's history and total budgets and its history's tokens, for the web pages' budget bars.
CREATE TABLE turn_budgets (
    tenant         text    NOT NULL,
    session_id     text    NOT NULL,
    sequence       integer NOT NULL,
    history_budget integer NOT NULL,
    history_tokens integer NOT NULL,
    total_budget   integer,
    PRIMARY KEY (tenant, session_id, sequence),
    FOREIGN KEY (tenant, session_id, sequence) REFERENCES messages (tenant, session_id, sequence) ON DELETE CASCADE
);

-- Idempotency-Key of a write, saved in the write's own transaction with the response it produced, so a retry that
-- reaches another replica is answered from here instead of writing twice.
CREATE TABLE idempotency_keys (
    tenant      text        NOT NULL,
    key         text        NOT NULL,
    fingerprint text        NOT NULL,
    status      integer     NOT NULL,
    body        bytea       NOT NULL,
    location    text,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant, key)
);
-- Tenant first, like every index: an expiry sweep goes tenant by tenant (or per shard once distributed).
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (tenant, expires_at);

-- ASP.NET Core Data Protection's key ring (XML elements), so every replica can read the web pages' cookies. Not tenant
-- data: the one table without tenant, to become a Citus reference table.
CREATE TABLE data_protection_keys (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    friendly_name text        NOT NULL UNIQUE,
    xml           text        NOT NULL,
    created_at    timestamptz NOT NULL
);
