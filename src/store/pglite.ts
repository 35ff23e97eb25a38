import { PGlite } from '@electric-sql/pglite';
import { typeParsers, type Database } from './database.js';

/**
 * PGlite has one connection. It queues every query and runs `transaction` exclusively, so
 * concurrent requests are serialised safely: a query never runs inside another request's transaction.
 */
export async function openPglite(dataDir: string): Promise<Database> {
  const db = await PGlite.create(dataDir, { parsers: typeParsers });
  await db.exec(`SET TimeZone = 'UTC'`);
  return {
    query: async (sql, params) => (await db.query(sql, params as unknown[] | undefined)).rows as never,
    transaction: (work) =>
      db.transaction((tx) => work({ query: async (sql, params) => (await tx.query(sql, params as unknown[])).rows as never })),
    close: () => db.close(),
  };
}
