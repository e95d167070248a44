// PGlite with pgvector and pg_textsearch over the PostgreSQL wire protocol, for the PostgreSQL store's tests.
//
// pglite-socket's own server (scripts/server.js) queues the messages of all connections onto PGlite's one session
// message by message and keeps a connection's messages together only inside a SQL transaction. An extended-protocol
// exchange (Parse, Bind, Describe, Execute … Sync) is not one, so concurrent connections interleave: one connection's
// Parse replaces another's unnamed statement, which then fails ("unnamed prepared statement does not exist") or, worse,
// returns rows of the other query (electric-sql/pglite#1046). And one failed message leaves its queue stuck for good.
// Several server processes on one database send exactly such concurrent exchanges, so this script serves PGlite through
// pglite-socket's server with a queue of its own that gives the session to one connection from its first message of an
// exchange until its Sync, and for as long as a transaction it began is open.
//
// Usage: node serve.mjs --db=FOLDER --host=127.0.0.1 --port=PORT --max-connections=N
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { vector } from '@electric-sql/pglite-pgvector';
import { pg_textsearch } from '@electric-sql/pglite-pg_textsearch';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    'max-connections': { type: 'string', default: '1' },
  },
});

// Frontend messages after which the session still holds state of this connection's exchange until its Sync:
// Parse, Bind, Describe, Execute, Close, Flush, and the COPY data messages.
const OPEN_EXCHANGE = new Set(['P', 'B', 'D', 'E', 'C', 'H', 'd', 'c', 'f'].map((c) => c.charCodeAt(0)));

function frontendMessage(type, body) {
  const bytes = new Uint8Array(5 + body.length);
  bytes[0] = type.charCodeAt(0);
  new DataView(bytes.buffer).setInt32(1, 4 + body.length);
  bytes.set(body, 5);
  return bytes;
}

const SYNC = frontendMessage('S', new Uint8Array(0));
const ROLLBACK = frontendMessage('Q', new TextEncoder().encode('ROLLBACK\0'));

/** The queue pglite-socket's server and handlers call (enqueue, getQueueLength, clearQueueForHandler, clearTransactionIfNeeded). */
class ExchangeQueue {
  constructor(db) {
    this.db = db;
    this.waiting = [];
    // The handler whose exchange or transaction is open on the session; only its messages run until it is closed.
    this.owner = null;
    // Handlers whose connection closed: if one of them owns the session, its exchange and transaction are ended.
    this.gone = new Set();
    this.running = false;
  }

  enqueue(handlerId, message, onData) {
    return new Promise((resolve, reject) => {
      this.waiting.push({ handlerId, message, onData, resolve, reject });
      this.pump();
    });
  }

  getQueueLength() {
    return this.waiting.length;
  }

  clearQueueForHandler(handlerId) {
    this.waiting = this.waiting.filter((item) => {
      if (item.handlerId !== handlerId) return true;
      item.reject(new Error('Handler disconnected'));
      return false;
    });
  }

  async clearTransactionIfNeeded(handlerId) {
    this.gone.add(handlerId);
    await this.pump();
  }

  next() {
    if (this.owner === null) return this.waiting.shift();
    const index = this.waiting.findIndex((item) => item.handlerId === this.owner);
    return index < 0 ? undefined : this.waiting.splice(index, 1)[0];
  }

  async pump() {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        await this.releaseGoneOwner();
        const item = this.next();
        if (!item) break;
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(item.message, {
              onRawData: (data) => {
                bytes += data.length;
                item.onData(data);
              },
            }),
          );
          this.owner = OPEN_EXCHANGE.has(item.message[0]) || this.db.isInTransaction() ? item.handlerId : null;
          item.resolve(bytes);
        } catch (error) {
          // One failed message fails its own connection, not every other one: the queue goes on.
          item.reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }

  // A connection that died mid-exchange or mid-transaction (a SIGKILLed replica) must not keep the session: end its
  // exchange with a Sync and undo its transaction, as PostgreSQL does when a backend's client disconnects.
  async releaseGoneOwner() {
    for (const id of this.gone) {
      if (id !== this.owner) this.gone.delete(id);
    }

    if (this.owner === null || !this.gone.has(this.owner)) return;
    this.gone.delete(this.owner);
    this.owner = null;
    const ignore = { onRawData: () => {} };
    await this.db.runExclusive(async () => {
      await this.db.execProtocolRawStream(SYNC, ignore);
      if (this.db.isInTransaction()) await this.db.execProtocolRawStream(ROLLBACK, ignore);
    });
  }
}

const db = new PGlite(values.db, { extensions: { vector, pg_textsearch } });
await db.waitReady;
const server = new PGLiteSocketServer({
  db,
  host: values.host,
  port: Number.parseInt(values.port, 10),
  maxConnections: Number.parseInt(values['max-connections'], 10),
});
// Handlers take the server's queue when a connection arrives, so replacing it before start covers every connection.
server.queryQueue = new ExchangeQueue(db);
await server.start();
console.log(`PGlite listening on ${values.host}:${values.port}`);

const stop = async () => {
  await server.stop();
  await db.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
