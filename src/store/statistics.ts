import { ident } from '../derive/sql.js';
import type { Database } from './database.js';

/** Rows a batch must create before the table's planner statistics are refreshed. */
const CREATED_ROWS_THRESHOLD = 1000;
const MIN_INTERVAL_MS = 30_000;

/** Where a failed ANALYZE is reported (a pino or Fastify logger fits): the store needs nothing more of a logger. */
export interface WarningLog {
  warn(details: object, message: string): void;
}

/**
 * PGlite has no autovacuum, and PostgreSQL's runs only after a delay: a table that has just grown
 * by thousands of rows has no statistics, and the planner then picks a sort of the whole table
 * over the primary-key index for a list. After a large batch, ANALYZE the table in the background,
 * at most every 30 s per table and database. One refresher per table, built with the batch
 * engine of its record type.
 */
export function statisticsRefresher(table: string): (db: Database, createdRows: number, log: WarningLog) => void {
  // Not a memo but when each tenant database last ran ANALYZE here; weak, as tenant databases are
  // opened and closed while the app runs, and a closed one's entry must go with it.
  const lastRun = new WeakMap<Database, number>();
  return (db, createdRows, log) => {
    if (createdRows < CREATED_ROWS_THRESHOLD) return;
    const now = Date.now();
    if (now - (lastRun.get(db) ?? 0) < MIN_INTERVAL_MS) return;
    lastRun.set(db, now);
    // Best effort, after the batch committed: whatever goes wrong here (even synchronously) is only logged.
    Promise.resolve()
      .then(() => db.query(`ANALYZE ${ident(table)}`))
      .catch((error: unknown) => log.warn({ err: error, table }, 'ANALYZE failed'));
  };
}
