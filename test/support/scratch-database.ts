import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { Database } from '../../src/store/database.js';
import { openPglite } from '../../src/store/pglite.js';
import { Budgets } from '../../src/store/pg-budget.js';
import { openPostgres } from '../../src/store/postgres.js';
import { ADMIN_URL, adminQuery, quietLogger } from './backends.js';

/** One empty database on either store, outside any Store: for loading fixtures and running migrations directly. */
export interface ScratchDatabase {
  /** Runs a multi-statement SQL script (a fixture) on its own connection. */
  load(sql: string): Promise<void>;
  open(): Promise<Database>;
  drop(): Promise<void>;
}

export async function scratchDatabase(kind: 'pglite' | 'postgres', location?: { dir?: string; name?: string; exists?: boolean }): Promise<ScratchDatabase> {
  if (kind === 'pglite') {
    const dir = location?.dir ?? (await mkdtemp(join(tmpdir(), 'vbapi-scratch-')));
    return {
      async load(sql) {
        const db = await PGlite.create(dir);
        try {
          await db.exec(sql);
        } finally {
          await db.close();
        }
      },
      open: () => openPglite(dir),
      drop: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const name = location?.name ?? `vbapi_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  if (!location?.exists) await adminQuery(`CREATE DATABASE "${name}"`);
  const url = Object.assign(new URL(ADMIN_URL), { pathname: `/${name}` }).toString();
  return {
    async load(sql) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    },
    async open() {
      // Its own small connection budget, closed with it.
      const budgets = new Budgets({ max: 2, acquireTimeoutMs: 10_000, idleMs: 60_000 });
      const db = openPostgres(url, quietLogger, budgets);
      return { ...db, close: async () => (await db.close(), await budgets.close()) };
    },
    drop: async () => void (await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)),
  };
}

/**
 * A database's schema as PostgreSQL itself reports it (catalogs, not our own description of it):
 * columns with types, collations, nullability and defaults; constraints; indexes. Two databases
 * with equal answers have the same schema, however each was made. Columns are sorted by name:
 * `ADD COLUMN` appends, and nothing in the server depends on column order.
 */
export async function introspect(db: Database): Promise<unknown> {
  const columns = await db.query(`
    SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
           coll.collname AS collation, a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_collation coll ON coll.oid = a.attcollation AND coll.collname <> 'default'
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY c.relname, a.attname`);
  const constraints = await db.query(`
    SELECT conrelid::regclass::text AS table, conname AS name, pg_get_constraintdef(oid) AS definition
    FROM pg_constraint WHERE connamespace = current_schema()::regnamespace ORDER BY 1, 2`);
  const indexes = await db.query(`SELECT tablename AS table, indexname AS name, indexdef AS definition FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1, 2`);
  return { columns, constraints, indexes };
}
