import type { FastifyBaseLogger } from 'fastify';
import { ident } from '../derive/sql.js';
import type { Database } from './database.js';

/** Rows a batch must create before the table's planner statistics are refreshed. */
const CREATED_ROWS_THRESHOLD = 1000;
const MIN_INTERVAL_MS = 30_000;
const lastRun = new WeakMap<Database, Map<string, number>>();

/**
 * PGlite has no autovacuum, and PostgreSQL's runs only after a delay: a table that has just grown
 * by thousands of rows has no statistics, and the planner then picks a sort of the whole table
 * over the primary-key index for a list. After a large batch, ANALYZE the table in the background,
 * at most every 30 s per table.
 */
export function refreshStatistics(db: Database, table: string, createdRows: number, log: FastifyBaseLogger): void {
  if (createdRows < CREATED_ROWS_THRESHOLD) return;
  const tables = lastRun.get(db) ?? new Map<string, number>();
  lastRun.set(db, tables);
  const now = Date.now();
  if (now - (tables.get(table) ?? 0) < MIN_INTERVAL_MS) return;
  tables.set(table, now);
  // Best effort, after the batch committed: whatever goes wrong here (even synchronously) is only logged.
  Promise.resolve()
    .then(() => db.query(`ANALYZE ${ident(table)}`))
    .catch((error: unknown) => log.warn({ err: error, table }, 'ANALYZE failed'));
}
