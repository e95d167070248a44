-- A session's own compaction settings (JSON written by the service), and each compaction: the summary of messages
-- 1..through_sequence, built from the previous one plus from_sequence..through_sequence, made after message at_sequence.
-- The summary is bytea holding WTF-8, like messages.content, since an extractive summary quotes the client's text.
-- A compaction never changes or deletes a message.
ALTER TABLE sessions ADD COLUMN compaction text;

CREATE TABLE compactions (
    tenant           text        NOT NULL,
    session_id       text        NOT NULL,
    number           integer     NOT NULL CHECK (number >= 1),
    id               text        NOT NULL,
    from_sequence    integer     NOT NULL,
    through_sequence integer     NOT NULL CHECK (through_sequence >= from_sequence),
    at_sequence      integer     NOT NULL,
    summary          bytea       NOT NULL,
    token_count      integer     NOT NULL,
    summarizer       text        NOT NULL,
    model            text,
    prompt_hash      text,
    trigger          text        NOT NULL,
    fallback_reason  text,
    created_at       timestamptz NOT NULL,
    PRIMARY KEY (tenant, session_id, number),
    UNIQUE (tenant, id),
    FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, id) ON DELETE CASCADE
);
