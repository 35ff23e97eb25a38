/**
 * The driver seam: everything above the store talks to a database through these two calls,
 * implemented once for `pg` (PostgreSQL) and once for PGlite (embedded).
 */
export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

export interface Database extends Queryable {
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Type parsers, set in one place for both drivers: bigint counts as JS numbers (they stay far below 2^53). */
export const INT8_OID = 20;
export const parseInt8 = (value: string): number => Number(value);
