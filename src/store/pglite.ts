import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { copyTarget, copyText } from '../derive/copy.js';
import type { Database, Queryable } from './database.js';
import { deserializeError, type PgliteAssets, type Reply, type Request } from './pglite-protocol.js';

/**
 * An embedded database: PGlite in its own worker thread, so a long statement never stalls the
 * server's event loop (health checks, other tenants, the registry). PGlite has one connection: the
 * worker runs calls in arrival order and a transaction holds the database exclusively until this
 * side commits or rolls back, so a query never runs inside another request's transaction.
 */
let workerStarted: () => void;
/**
 * Resolves once this process has started the thread of its first embedded database: `vbapi serve`
 * loads the HTTP stack only then, because that loading holds this thread for most of a second and
 * would hold back the reading and compiling of PGlite that comes before the thread (serve.ts).
 */
export const firstWorkerStarted = new Promise<void>((resolve) => (workerStarted = resolve));

export async function openPglite(dataDir: string, settings: PgliteOptions = {}): Promise<Database> {
  const client = new WorkerClient(dataDir, await pgliteAssets(), settings.sharedBuffersMb ?? DEFAULT_PGLITE_SHARED_BUFFERS_MB);
  await client.call({ op: 'query', sql: 'SELECT 1' }).catch(async (error: unknown) => {
    await client.terminate();
    throw error;
  });
  const on = (tx?: number): Queryable => ({
    query: async <Row>(sql: string, params?: readonly unknown[]) => (await client.call({ op: 'query', sql, params, tx })).rows as Row[],
    queryValues: async (sql, params) => (await client.call({ op: 'query', sql, params, tx, values: true })).rows as unknown[][],
    copyRows: async (entity, rows) => {
      // PGlite reads COPY data from a blob it mounts as /dev/blob: the text goes over whole (the
      // batch engine hands over a chunk at a time, so it stays bounded).
      const { table, columns, fields } = copyTarget(entity);
      await client.call({ op: 'copy', sql: `COPY ${table} (${columns}) FROM '/dev/blob'`, text: copyText(rows, fields), tx });
    },
  });
  return {
    ...on(),
    async transaction(work) {
      const { tx } = await client.call({ op: 'begin' });
      let result;
      try {
        result = await work(on(tx));
      } catch (error) {
        await client.call({ op: 'rollback', tx: tx! }).catch(() => undefined);
        throw error;
      }
      await client.call({ op: 'commit', tx: tx! });
      return result;
    },
    async close() {
      try {
        await client.call({ op: 'close' });
      } finally {
        await client.terminate();
      }
    },
  };
}

/**
 * PGlite's WebAssembly, compiled once per process and handed to every worker: compiling the 9 MB
 * module was most of a database's boot, and a worker does not share PGlite's own module cache (it
 * lives in each thread). A compiled `WebAssembly.Module` crosses to a worker without being compiled
 * again; the file-system bundle (a Blob) is read once and shared the same way.
 */
let assets: Promise<PgliteAssets> | null = null;

function pgliteAssets(): Promise<PgliteAssets> {
  assets ??= (async () => {
    const dist = new URL('.', import.meta.resolve('@electric-sql/pglite'));
    const [pglite, initdb, bundle] = await Promise.all(
      ['pglite.wasm', 'initdb.wasm', 'pglite.data'].map((file) => readFile(new URL(file, dist))),
    );
    const [pgliteWasmModule, initdbWasmModule] = await Promise.all([WebAssembly.compile(pglite!), WebAssembly.compile(initdb!)]);
    return { pgliteWasmModule, initdbWasmModule, fsBundle: new Blob([bundle!]) };
  })();
  assets.catch(() => (assets = null)); // a failed read is tried again by the next open
  return assets;
}

/**
 * The worker's code: in the compiled dist/ the sibling `.js` file. Under tsx (tests, `npm run dev`)
 * the sibling `.ts` file, imported after registering tsx in the worker, since a worker does not
 * inherit tsx's loader (privatenumber/tsx#354).
 */
function workerSource(): { source: URL | string; eval: boolean } {
  const extension = extname(fileURLToPath(import.meta.url));
  const file = new URL(`./pglite-worker${extension}`, import.meta.url);
  if (extension !== '.ts') return { source: file, eval: false };
  const tsx = import.meta.resolve('tsx/esm/api');
  return {
    source: `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(file.href)}); });`,
    eval: true,
  };
}
const WORKER = workerSource();

type Distribute<T> = T extends unknown ? Omit<T, 'id'> : never;
type Answer = { rows?: unknown[]; tx?: number };

/**
 * PostgreSQL's own default (128 MB) made each open PGlite database take about 100 MiB more RSS
 * than 16 MB does, and ten concurrent 10,000-group batches peak at 917 MB instead of 619 MB; batch
 * upserts and list pages of 100,000 groups ran as fast (bench, BENCHMARKS.md). The files stay in
 * the operating system's cache, so a smaller pool mostly costs copies, not reads from disk.
 */
export const DEFAULT_PGLITE_SHARED_BUFFERS_MB = 16;

/**
 * The worker's JavaScript only passes statements and rows between this thread and PGlite's
 * WebAssembly, so it needs little young generation; V8's default let it grow to tens of MiB under a
 * batch. Measured (six fresh servers each, one then ten 10,000-group batches): peak growth for one
 * batch median 48 vs 68 MiB, ten at once median 624 vs 665 MB, the same time.
 */
const WORKER_YOUNG_GENERATION_MB = 8;

export interface PgliteOptions {
  /** shared_buffers in MiB (VBAPI_PGLITE_SHARED_BUFFERS_MB). */
  readonly sharedBuffersMb?: number;
}

class WorkerClient {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (reply: Answer) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private exited: Error | null = null;

  constructor(dataDir: string, assets: PgliteAssets, sharedBuffersMb: number) {
    this.worker = new Worker(WORKER.source, {
      eval: WORKER.eval,
      workerData: { dataDir, assets, sharedBuffersMb },
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    workerStarted();
    this.worker.on('message', (reply: Reply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiting.resolve(reply);
      else waiting.reject(deserializeError(reply.error));
    });
    // A worker that dies (out of memory, a crash in PGlite) fails what it held as "unavailable".
    const fail = (cause: Error) => {
      this.exited = Object.assign(new Error(`embedded database worker stopped: ${cause.message}`), { code: '08006' });
      for (const waiting of this.pending.values()) waiting.reject(this.exited);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
  }

  call(request: Distribute<Request>): Promise<Answer> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}
