import type { Database } from './database.js';
import { StoreError } from './errors.js';

/**
 * One committed, numbered migration: plain SQL, run in order, each exactly once per database.
 * Tenant migrations are written by `npm run migrations:generate` from the record descriptions;
 * registry migrations by hand. Both live in `src/store/migrations/<kind>/NNNN_<name>.ts`.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

/**
 * Applies the pending migrations in one transaction, under an advisory lock so that several
 * server instances starting at once against one PostgreSQL database apply each exactly once.
 * `schema_migrations` is the bookkeeping of the first release, kept as it was: a database made by
 * it records version 1 (tenant) or 1 and 2 (registry) and is upgraded from there.
 */
export async function migrate(db: Database, migrations: readonly Migration[], options: { lockId: number; what: string }): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [options.lockId]);
    // Rewriting a large table may take longer than any request should: no statement timeout here.
    await tx.query('SET LOCAL statement_timeout = 0');
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set((await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).map((row) => row.version));
    const known = new Set(migrations.map((migration) => migration.version));
    const unknown = [...done].filter((version) => !known.has(version));
    if (unknown.length) {
      // A newer server migrated it: this one would misread its tables, so it refuses instead.
      throw new StoreError(`${options.what} has migration ${Math.max(...unknown)}, which this server version does not know; run a newer version`);
    }
    const applied: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      for (const sql of migration.statements) await tx.query(sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      applied.push(migration.version);
    }
    return applied;
  });
}
