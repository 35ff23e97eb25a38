import { cp, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ident } from '../derive/sql.js';
import type { Database } from './database.js';
import { openPglite } from './pglite.js';
import type { Budgets } from './pg-budget.js';
import { databaseNameOf, openPostgres, withDatabaseName } from './postgres.js';

/** Where the registry and the tenant databases physically live: a PGlite directory tree or a PostgreSQL server. */
export interface Backend {
  readonly kind: 'pglite' | 'postgres';
  readonly registry: Database;
  /** Creates the physical database of registry entry `id`; returns its location. */
  create(id: number): Promise<string>;
  open(location: string): Promise<Database>;
  close(): Promise<void>;
}

export async function pgliteBackend(dataDir: string): Promise<Backend> {
  const root = resolve(dataDir);
  await mkdir(join(root, 'databases'), { recursive: true });
  const registry = await openPglite(join(root, 'registry'));
  return {
    kind: 'pglite',
    registry,
    // Directory names come from the registry id alone: nothing a client sends reaches a path.
    async create(id) {
      const location = `db-${id}`;
      await copyPristine(root, join(root, 'databases', location));
      return location;
    },
    open: (location) => openPglite(join(root, 'databases', location)),
    close: () => registry.close(),
  };
}

export function postgresBackend(databaseUrl: string, logger: Logger, budgets: Budgets): Backend {
  const registryName = databaseNameOf(databaseUrl);
  const registry = openPostgres(databaseUrl, logger, budgets);
  return {
    kind: 'postgres',
    registry,
    async create(id) {
      // Derived from the registry's name, so installations sharing one server never collide.
      const name = `${registryName}__t${id}`;
      if (Buffer.byteLength(name) > 63) throw new Error(`database name ${name} is longer than PostgreSQL's 63 bytes; use a shorter DATABASE_URL database name`);
      await registry.query(`CREATE DATABASE ${ident(name)}`);
      return name;
    },
    open: async (location) => openPostgres(withDatabaseName(databaseUrl, location), logger, budgets),
    close: () => registry.close(),
  };
}

/**
 * `database create` on the embedded store copies a pristine data directory (initialised once, then
 * closed and kept as `pristine/`) instead of running PostgreSQL's initdb each time. The copy holds
 * no tables; the tenant migrations run when it is first opened. (Opening it, in a new worker that
 * compiles PGlite's WebAssembly again, still dominates `create`: see BENCHMARKS.md.)
 */
let pristine: Promise<string> | null = null;

async function copyPristine(root: string, target: string): Promise<void> {
  const source = join(root, 'pristine');
  pristine ??= ensurePristine(source).finally(() => (pristine = null));
  await pristine;
  await cp(source, target, { recursive: true, errorOnExist: true, force: false });
}

async function ensurePristine(source: string): Promise<string> {
  if (await stat(join(source, 'PG_VERSION')).catch(() => null)) return source;
  // Built aside and renamed into place, so a crash never leaves a half-made pristine directory.
  const building = `${source}.building-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  const db = await openPglite(building);
  await db.close();
  await rename(building, source);
  return source;
}
