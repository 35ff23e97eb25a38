import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { typeParsers } from './database.js';
import { serializeError, type PgliteAssets, type Reply, type Request } from './pglite-protocol.js';

/**
 * One PGlite database, run in its own thread (see pglite.ts): a large statement keeps this thread
 * busy, not the server's event loop. PGlite has one connection and queues every call; a transaction
 * holds it exclusively until the owner's `commit`/`rollback`, so calls outside it wait, exactly as
 * they did when PGlite ran on the main thread.
 */
const port = parentPort!;
const { dataDir, assets, sharedBuffersMb } = workerData as { dataDir: string; assets: PgliteAssets; sharedBuffersMb: number };

interface OpenTransaction {
  readonly tx: Transaction;
  /** Settles the callback given to PGlite's `transaction`: resolve commits, reject rolls back. */
  readonly finish: (commit: boolean) => void;
  /** PGlite's transaction promise: settles after COMMIT or ROLLBACK has run. */
  readonly done: Promise<unknown>;
}

const ROLLBACK = Symbol('rollback');
const transactions = new Map<number, OpenTransaction>();
let nextTx = 1;

const ready = (async () => {
  // The modules were compiled by the owning thread (see pglite.ts): instantiating them is quick.
  // On the command line, not through PGlite's `postgresqlconf`, which would rewrite the data
  // directory's postgresql.conf on every start. An integer checked by config.ts (1-1024).
  const startParams = [...PGlite.defaultStartParams, '-c', `shared_buffers=${Math.trunc(sharedBuffersMb)}MB`];
  const db = await PGlite.create(dataDir, { parsers: typeParsers, ...assets, startParams });
  await db.exec(`SET TimeZone = 'UTC'`);
  return db;
})();

port.on('message', (request: Request) => {
  handle(request).then(
    (reply) => port.postMessage({ id: request.id, ok: true, ...reply } satisfies Reply),
    (error: unknown) => port.postMessage({ id: request.id, ok: false, error: serializeError(error) } satisfies Reply),
  );
});

async function handle(request: Request): Promise<{ rows?: unknown[]; tx?: number }> {
  const db = await ready;
  switch (request.op) {
    case 'query': {
      const target = request.tx === undefined ? db : transactionOf(request.tx).tx;
      // `values`: rows as arrays (queryValues), which also cross to the main thread more cheaply.
      const options = request.values ? { rowMode: 'array' as const } : undefined;
      return { rows: (await target.query(request.sql, request.params as unknown[] | undefined, options)).rows };
    }
    case 'copy': {
      // PGlite reads COPY data from a blob it mounts as /dev/blob.
      const target = request.tx === undefined ? db : transactionOf(request.tx).tx;
      await target.query(request.sql, [], { blob: new Blob([request.text]) });
      return {};
    }
    case 'begin':
      return { tx: await begin(db) };
    case 'commit':
    case 'rollback': {
      const open = transactionOf(request.tx);
      transactions.delete(request.tx);
      open.finish(request.op === 'commit');
      try {
        await open.done;
      } catch (error) {
        if (error !== ROLLBACK) throw error;
      }
      return {};
    }
    case 'close':
      await db.close();
      return {};
  }
}

/** Opens a transaction and answers once PGlite runs it (holding the database exclusively). */
function begin(db: PGlite): Promise<number> {
  const id = nextTx++;
  return new Promise<number>((started, failed) => {
    const done = db.transaction(
      (tx) =>
        new Promise<void>((resolve, reject) => {
          transactions.set(id, { tx, finish: (commit) => (commit ? resolve() : reject(ROLLBACK)), done });
          started(id);
        }),
    );
    done.catch((error: unknown) => {
      if (!transactions.has(id) && error === ROLLBACK) return;
      transactions.delete(id);
      failed(error); // BEGIN itself failed (no effect once `started` ran)
    });
  });
}

function transactionOf(tx: number): OpenTransaction {
  const open = transactions.get(tx);
  if (!open) throw new Error(`transaction ${tx} is not open`);
  return open;
}
