import { cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ident } from '../derive/sql.js';
import type { Database } from './database.js';
import { migrate } from './migrate.js';
import { openPglite, type PgliteOptions } from './pglite.js';
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
  /** Removes what `create` made (after a failed `database create`, or `database drop`); this process must have closed it. */
  drop(location: string): Promise<void>;
  close(): Promise<void>;
}

export async function pgliteBackend(dataDir: string, settings: PgliteOptions = {}): Promise<Backend> {
  const root = resolve(dataDir);
  await mkdir(join(root, 'databases'), { recursive: true });
  const registryDir = join(root, 'registry');
  // A new installation's registry is a copy of the blank cluster that tenant databases start from
  // too, so a first start runs PGlite's initdb (seconds of WebAssembly) once, not twice.
  if (!(await stat(registryDir).catch(() => null))) await copyAside(await blankCluster(root), registryDir);
  const registry = await openPglite(registryDir, settings);
  return {
    kind: 'pglite',
    registry,
    // Directory names come from the registry id alone: nothing a client sends reaches a path.
    async create(id) {
      const location = `db-${id}`;
      await copy(await pristineTenant(root), join(root, 'databases', location));
      return location;
    },
    open: (location) => openPglite(join(root, 'databases', location), settings),
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
    async drop(location) {
      if (location === registryName) throw new Error('refusing to drop the registry database');
      try {
        // FORCE (PostgreSQL 13+) ends other processes' connections to it: servers sharing this registry.
        await registry.query(`DROP DATABASE IF EXISTS ${ident(location)} WITH (FORCE)`);
      } catch (error) {
        if ((error as { code?: string }).code !== '42601') throw error; // syntax_error: before PostgreSQL 13
        await registry.query(`DROP DATABASE IF EXISTS ${ident(location)}`);
      }
    },
    close: () => registry.close(),
  };
}

/**
 * `database create` on the embedded store copies a pristine tenant database instead of running
 * PostgreSQL's initdb and every migration each time. Under `pristine/` in the data directory:
 * `blank` (initdb's output, never used as a database itself) and `tenant-<N>`, a copy of it
 * migrated with the committed tenant migrations up to version N. A server with a newer migration
 * builds (once) its own `tenant-<N>` rather than copying a stale schema; a copy is migrated again on
 * open anyway, so an older pristine copy could never serve a wrong schema, only a slower first open.
 */
function blankCluster(root: string): Promise<string> {
  return template(join(root, 'pristine', 'blank'), async (dir) => {
    await (await openPglite(dir)).close(); // PGlite runs initdb on an empty directory
  });
}

function pristineTenant(root: string): Promise<string> {
  const latest = Math.max(0, ...tenantMigrations.map((migration) => migration.version));
  const dir = join(root, 'pristine', `tenant-${latest}`);
  return template(dir, async (building) => {
    await copy(await blankCluster(root), building);
    const db = await openPglite(building);
    try {
      await migrate(db, tenantMigrations, { lockId: TENANT_LOCK, what: 'the pristine embedded database' });
    } finally {
      await db.close();
    }
    // Pristine copies of older schemas are no longer copied from.
    for (const name of await readdir(dirname(dir))) {
      if (/^tenant-\d+$/.test(name) && name !== `tenant-${latest}`) await rm(join(dirname(dir), name), { recursive: true, force: true });
    }
  });
}

/** Builds in flight, by directory: concurrent `database create`s build a template once. */
const building = new Map<string, Promise<string>>();

/** `dir`, built by `build` unless it already holds a database. */
function template(dir: string, build: (aside: string) => Promise<void>): Promise<string> {
  let ready = building.get(dir);
  if (!ready) {
    ready = (async () => {
      if (await stat(join(dir, 'PG_VERSION')).catch(() => null)) return dir;
      await buildAside(dir, build);
      return dir;
    })().finally(() => building.delete(dir));
    building.set(dir, ready);
  }
  return ready;
}

/** Built aside and renamed into place, so a crash never leaves a half-made directory where a whole one is expected. */
async function buildAside(dir: string, build: (aside: string) => Promise<void>): Promise<void> {
  const aside = `${dir}.building-${process.pid}`;
  await rm(aside, { recursive: true, force: true });
  await mkdir(dirname(dir), { recursive: true });
  await build(aside);
  await rename(aside, dir);
}

const copy = (source: string, target: string) => cp(source, target, { recursive: true, errorOnExist: true, force: false });
const copyAside = (source: string, target: string) => buildAside(target, (aside) => copy(source, aside));
