-- The span index's write side (ISpanIndex) and the multi-replica vector filler.

-- ISpanIndex and its callers (ingestion) name an artifact by a number, as SQLite's artifacts.id: a new one on every
-- re-ingest. Unique with tenant leading, as every key; the plain index on id alone is for ISpanIndex.Delete, which gets
-- ids without tenants (a non-unique index is still allowed on a distributed table).
ALTER TABLE documents ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE documents ADD CONSTRAINT documents_tenant_id UNIQUE (tenant, id);
CREATE INDEX documents_by_id ON documents (id);

-- Working sets, citations and the vector filler name spans by id alone (ISpanCatalog, IVectorRetriever.VectorsOf,
-- WriteVectors): without this every such look-up would scan, since the primary key leads with tenant.
CREATE INDEX spans_by_id ON spans (id);

-- A vector filler's lease on a span it is embedding (PostgresSpanIndex.SpansWithoutVectors): other replicas skip the
-- span until then. A lease rather than a row lock held while embedding, because a transaction left open for the length
-- of an embedding batch would block every other connection on PGlite and hold a connection per filler on PostgreSQL.
-- Null when nobody holds it; a lease that expired (its filler died) is free again.
ALTER TABLE spans ADD COLUMN claimed_until timestamptz;
