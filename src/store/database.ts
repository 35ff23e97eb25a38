import { parseDateTime } from '../derive/dates.js';
import type { Row } from '../derive/validate.js';
import type { Entity } from '../entities/index.js';

/**
 * The driver seam: everything above the store talks to a database through `query` and `copyRows`
 * (and, on a whole database, `transaction` and `close`), implemented once for `pg` (PostgreSQL)
 * and once for PGlite (embedded).
 */
export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /**
   * The same, each row as the array of its values in the statement's column order: no object per
   * row with a key per column, which for a 98-column record was a measurable share of a GET.
   */
  queryValues(sql: string, params?: readonly unknown[]): Promise<unknown[][]>;
  /**
   * COPY `rows` (validated, see derive/validate.ts) into `entity`'s staging table, its client fields
   * only. The driver derives the statement from the record description and encodes the rows itself,
   * in pieces (derive/copy.ts): no SQL text crosses this seam from its callers.
   */
  copyRows(entity: Entity, rows: readonly Row[]): Promise<void>;
}

export interface Database extends Queryable {
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Type parsers, set in one place for both drivers: bigint counts as JS numbers (they stay far
 * below 2^53), and timestamptz straight to the API's ISO 8601 UTC text. (PGlite's own parser goes
 * through `Date` and reads year 0001 as 2001.)
 */
export const typeParsers: Readonly<Record<number, (value: string) => unknown>> = {
  20: (value) => Number(value), // int8
  1184: (value) => utcTimestamp(value) ?? parseDateTime(value) ?? value, // timestamptz, printed in the session's UTC
};

/** `2025-06-30 12:34:56.789+00`, the form every stored timestamp is printed in (session TimeZone UTC). */
const STORED_UTC = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?\+00$/;

/**
 * What parseDateTime makes of PostgreSQL's usual output, by rearranging the text instead of going
 * through Date: every record read converts a handful of these (BC years, years past 9999 and
 * other offsets fall through to parseDateTime).
 */
function utcTimestamp(value: string): string | null {
  const match = STORED_UTC.exec(value);
  if (!match) return null;
  return `${match[1]}T${match[2]}.${(match[3] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
}
