import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Logger } from 'pino';
import { typeParsers, type Database, type Queryable } from './database.js';
import { classify } from './errors.js';
import { BudgetPool, type Budgets } from './pg-budget.js';

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    typeParsers[oid] ?? pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * A PostgreSQL database reached through the process's connection budget for its server (see
 * pg-budget.ts): connections are opened on demand, shared out fairly across databases, and closed
 * when idle.
 */
export function openPostgres(connectionString: string, logger: Logger, budgets: Budgets): Database {
  // A server that does not answer must not hold requests: connecting gives up after 5 s.
  const pool = new BudgetPool(
    budgets.for(connectionString),
    { connectionString, types, options: '-c TimeZone=UTC', connectionTimeoutMillis: 5000 },
    (error) => logger.warn({ err: error }, 'idle PostgreSQL connection failed'),
  );
  const query: Queryable['query'] = async (sql, params) => {
    const client = await pool.acquire();
    let failure: Error | undefined;
    try {
      return (await client.query(sql, params as unknown[] | undefined)).rows;
    } catch (error) {
      failure = error as Error;
      throw error;
    } finally {
      pool.release(client, failure !== undefined && classify(failure) === 'unavailable');
    }
  };
  const copyInto = async (client: pg.Client, table: string, columns: string, text: string) => {
    await pipeline(Readable.from([text]), client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`)));
  };
  return {
    query,
    copyFrom: async (table, columns, text) => {
      const client = await pool.acquire();
      let failure: Error | undefined;
      try {
        await copyInto(client, table, columns, text);
      } catch (error) {
        failure = error as Error;
        throw error;
      } finally {
        pool.release(client, failure !== undefined);
      }
    },
    async transaction(work) {
      const client = await pool.acquire();
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
        pool.release(client, failure !== undefined);
      }
    },
    close: () => pool.close(),
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
