import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Logger } from 'pino';
import { typeParsers, type Database, type Queryable } from './database.js';

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    typeParsers[oid] ?? pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export function openPostgres(connectionString: string, logger: Logger, max = 10): Database {
  const pool = new pg.Pool({ connectionString, max, types, options: '-c TimeZone=UTC' });
  // An idle connection dropped by the server must not crash the process; the pool replaces it.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle PostgreSQL connection failed'));
  const query: Queryable['query'] = async (sql, params) =>
    (await pool.query(sql, params as unknown[] | undefined)).rows;
  const copyInto = async (client: pg.PoolClient | pg.Pool, table: string, columns: string, text: string) => {
    const connection = 'release' in client ? client : await client.connect();
    try {
      await pipeline(Readable.from([text]), connection.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`)));
    } finally {
      if (connection !== client) (connection as pg.PoolClient).release();
    }
  };
  return {
    query,
    copyFrom: (table, columns, text) => copyInto(pool, table, columns, text),
    async transaction(work) {
      const client = await pool.connect();
      let failure: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await work({
          query: async (sql, params) => (await client.query(sql, params as unknown[])).rows,
          copyFrom: (table, columns, text) => copyInto(client, table, columns, text),
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        failure = error as Error;
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        // A connection whose transaction failed is discarded rather than trusted again.
        client.release(failure);
      }
    },
    close: () => pool.end(),
  };
}

/** The same server, another database: used to reach the registry's siblings (tenant databases). */
export function withDatabaseName(connectionString: string, database: string): string {
  const url = new URL(connectionString);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

export function databaseNameOf(connectionString: string): string {
  const name = decodeURIComponent(new URL(connectionString).pathname.slice(1));
  if (!name) throw new Error('DATABASE_URL must name a database, e.g. postgres://user@host:5432/vbapi');
  return name;
}
