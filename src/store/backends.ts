import { cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ident } from '../derive/sql.js';
import type { Database } from './database.js';
import { migrate } from './migrate.js';
import { openPglite } from './pglite.js';
import type { Budgets } from './pg-budget.js';
import { databaseNameOf, openPostgres, withDatabaseName, type PostgresOptions } from './postgres.js';
import { TENANT_LOCK, tenantMigrations } from './tenant-schema.js';

/** Where the registry and the tenant databases physically live: a PGlite directory tree or a PostgreSQL server. */
export interface Backend {
  readonly kind: 'pglite' | 'postgres';
  readonly registry: Database;
  /** Creates the physical database of registry entry `id`; returns its location. */
  create(id: number): Promise<string>;
  open(location: string): Promise<Database>;
  /** Removes what `create` made (after a failed `database create`); the database must be closed. */
  drop(location: string): Promise<void>;
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
    drop: (location) => rm(join(root, 'databases', location), { recursive: true, force: true }),
    close: () => registry.close(),
  };
}

export function postgresBackend(databaseUrl: string, logger: Logger, budgets: Budgets, settings: PostgresOptions = {}): Backend {
  const registryName = databaseNameOf(databaseUrl);
  const registry = openPostgres(databaseUrl, logger, budgets, settings);
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
    open: async (location) => openPostgres(withDatabaseName(databaseUrl, location), logger, budgets, settings),
    drop: async (location) => void (await registry.query(`DROP DATABASE IF EXISTS ${ident(location)}`)),
    close: () => registry.close(),
  };
}

/**
 * `database create` on the embedded store copies a pristine data directory instead of running
 * PostgreSQL's initdb and every migration each time. The pristine directory is initialised once and
 * migrated with the committed tenant migrations; its name carries the latest migration's version, so
 * a server with a newer migration builds (once) a new one rather than copying a stale schema.
 */
const pristine = new Map<string, Promise<void>>();

async function copyPristine(root: string, target: string): Promise<void> {
  const latest = Math.max(0, ...tenantMigrations.map((migration) => migration.version));
  const source = join(root, `pristine-${latest}`);
  let ready = pristine.get(source);
  if (!ready) {
    ready = ensurePristine(source);
    pristine.set(source, ready);
    ready.catch(() => pristine.delete(source));
  }
  await ready;
  await cp(source, target, { recursive: true, errorOnExist: true, force: false });
}

async function ensurePristine(source: string): Promise<void> {
  if (await stat(join(source, 'PG_VERSION')).catch(() => null)) return;
  // Built aside and renamed into place, so a crash never leaves a half-made pristine directory.
  const building = `${source}.building-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  const db = await openPglite(building);
  try {
    await migrate(db, tenantMigrations, { lockId: TENANT_LOCK, what: 'the pristine embedded database' });
  } finally {
    await db.close();
  }
  await rename(building, source);
  // Pristine copies of older schemas are no longer copied from.
  const root = join(source, '..');
  for (const name of await readdir(root)) {
    if (/^pristine-\d+$/.test(name) && join(root, name) !== source) await rm(join(root, name), { recursive: true, force: true });
  }
}
