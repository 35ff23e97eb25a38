import { PGlite } from '@electric-sql/pglite';
import { typeParsers, type Database } from './database.js';

/**
 * PGlite has one connection. It queues every query and runs `transaction` exclusively, so
 * concurrent requests are serialised safely: a query never runs inside another request's transaction.
 */
export async function openPglite(dataDir: string): Promise<Database> {
  const db = await PGlite.create(dataDir, { parsers: typeParsers });
  await db.exec(`SET TimeZone = 'UTC'`);
  // PGlite reads COPY data from a blob it mounts as /dev/blob.
  const copy = (target: Pick<PGlite, 'query'>) => async (table: string, columns: string, text: string) => {
    await rowsOf(target.query(`COPY ${table} (${columns}) FROM '/dev/blob'`, [], { blob: new Blob([text]) }));
  };
  return {
    query: (sql, params) => rowsOf(db.query(sql, params as unknown[] | undefined)),
    copyFrom: copy(db),
    transaction: (work) =>
      db.transaction((tx) => work({ query: (sql, params) => rowsOf(tx.query(sql, params as unknown[])), copyFrom: copy(tx) })),
    close: () => db.close(),
  };
}

/** PGlite attaches the query's parameters (record data) to its errors; they must not reach the logs. */
async function rowsOf<Row>(result: Promise<{ rows: unknown[] }>): Promise<Row[]> {
  try {
    return (await result).rows as Row[];
  } catch (error) {
    if (error && typeof error === 'object') delete (error as { params?: unknown }).params;
    throw error;
  }
}
