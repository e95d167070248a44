-- Sessions' user_id is the client's text exactly as sent, like messages.content: bytea holding WTF-8
-- (ContextCompiler.Core.Text.Wtf8), because text rejects NUL and cannot encode a lone surrogate, and the SQLite store
-- returns both. Valid text converts to the same bytes as UTF-8, which is WTF-8. The (tenant, user_id, status) index is
-- rebuilt by the type change and keeps serving the open-sessions count, since bytea compares with = in a b-tree.
ALTER TABLE sessions ALTER COLUMN user_id TYPE bytea USING convert_to(user_id, 'UTF8');

-- Left as text, on purpose:
--   * sessions.metadata and messages.metadata hold JsonElement.GetRawText() of the JSON the client sent. JSON text
--     cannot hold a raw NUL or other control character, and the server refuses JSON that is not valid UTF-8, so NUL
--     and lone surrogates can only appear as escapes ("\u0000", "\ud800"), which are plain ASCII and valid text.
--     They stay text, not jsonb: jsonb rejects exactly those escapes and would reorder keys.
--   * idempotency_keys.key: the server accepts only 1 to 255 visible ASCII characters as an Idempotency-Key.
--   * idempotency_keys.fingerprint and location, messages.working_set and citation_check, sessions.budgets: written by
--     the service itself (hashes, paths, System.Text.Json output, which escapes NUL and lone surrogates).

-- The tokens of a user turn's working set (its "tokenCount"), read by the store from the JSON when it appends the
-- message, for the session listing's totals. Reading it in SQL instead ((working_set::jsonb->>'tokenCount')) would make
-- PostgreSQL parse every working set, and its JSON parser refuses "\u0000" and lone surrogate escapes when it
-- de-escapes strings, which a working set quoting a document may hold: one such turn would break the whole listing.
ALTER TABLE messages ADD COLUMN working_set_tokens bigint;
