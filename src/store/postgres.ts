import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Logger } from 'pino';
import { typeParsers, type Database, type Queryable } from './database.js';
import { isBrokenConnection } from './errors.js';

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    typeParsers[oid] ?? pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface PostgresOptions {
  /** Cancels a statement running longer (SQLSTATE 57014 → 503); 0 = no limit. */
  readonly statementTimeoutMs?: number;
}

export function openPostgres(connectionString: string, logger: Logger, max = 10, settings: PostgresOptions = {}): Database {
  const options = `-c TimeZone=UTC -c statement_timeout=${settings.statementTimeoutMs ?? 0}`;
  // A server that does not answer must not hold requests: connecting gives up after 5 s.
  const pool = new pg.Pool({ connectionString, max, types, options, connectionTimeoutMillis: 5000 });
  /** A connection that cannot be had means the database is unavailable, whatever the error says. */
  const connect = () =>
    pool.connect().catch((error: Error & { code?: string }) => {
      throw Object.assign(error, { code: error.code ?? '08006' }); // connection_failure
    });
  // An idle connection dropped by the server must not crash the process; the pool replaces it.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle PostgreSQL connection failed'));
  const query: Queryable['query'] = async (sql, params) => {
    const client = await connect();
    let failure: Error | undefined;
    try {
      return (await client.query(sql, params as unknown[] | undefined)).rows;
    } catch (error) {
      failure = error as Error;
      throw error;
    } finally {
      client.release(failure && isBrokenConnection(failure) ? failure : undefined);
    }
  };
  const copyInto = async (client: pg.PoolClient, table: string, columns: string, text: string) => {
    await pipeline(Readable.from([text]), client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`)));
  };
  return {
    query,
    copyFrom: async (table, columns, text) => {
      const client = await connect();
      try {
        await copyInto(client, table, columns, text);
      } finally {
        client.release();
      }
    },
    async transaction(work) {
      const client = await connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await work({
          query: async (sql, params) => (await client.query(sql, params as unknown[])).rows,
          copyFrom: (table, columns, text) => copyInto(client, table, columns, text),
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (isBrokenConnection(error)) broken = error as Error;
        // A connection that cannot even roll back is discarded; one that did is as good as new.
        else await client.query('ROLLBACK').catch((rollbackFailure: Error) => (broken = rollbackFailure));
        throw error;
      } finally {
        client.release(broken);
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
