import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ident } from '../derive/sql.js';
import type { Database } from './database.js';
import { openPglite } from './pglite.js';
import { databaseNameOf, openPostgres, withDatabaseName, type PostgresOptions } from './postgres.js';

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
    create: async (id) => `db-${id}`,
    open: (location) => openPglite(join(root, 'databases', location)),
    drop: (location) => rm(join(root, 'databases', location), { recursive: true, force: true }),
    close: () => registry.close(),
  };
}

export function postgresBackend(databaseUrl: string, logger: Logger, settings: PostgresOptions = {}): Backend {
  const registryName = databaseNameOf(databaseUrl);
  const registry = openPostgres(databaseUrl, logger, undefined, settings);
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
    open: async (location) => openPostgres(withDatabaseName(databaseUrl, location), logger, undefined, settings),
    drop: async (location) => void (await registry.query(`DROP DATABASE IF EXISTS ${ident(location)}`)),
    close: () => registry.close(),
  };
}
