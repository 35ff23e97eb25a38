import type { Database, Queryable } from './database.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly up: (tx: Queryable) => Promise<void>;
}

/**
 * Applies the pending versioned migrations in one transaction, under an advisory lock so that
 * several server instances starting at once against one PostgreSQL database apply each exactly once.
 * `reconcile` then runs derived, idempotent schema steps in the same transaction.
 */
export async function migrate(
  db: Database,
  migrations: readonly Migration[],
  options: { lockId: number; reconcile?: (tx: Queryable) => Promise<void> },
): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [options.lockId]);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set((await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).map((row) => row.version));
    const applied: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      await migration.up(tx);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      applied.push(migration.version);
    }
    await options.reconcile?.(tx);
    return applied;
  });
}
