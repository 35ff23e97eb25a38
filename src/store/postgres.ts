import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyPieces, copyTarget } from '../derive/copy.js';
import type { Logger } from 'pino';
import { typeParsers, type Database, type Queryable } from './database.js';
import { isBrokenConnection } from './errors.js';
import { BudgetPool, type Budgets } from './pg-budget.js';

/** Text-format parsers by type oid, looked up once: a result asks for one per column, every time. */
const textParsers = new Map<number, (value: string) => unknown>();
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format === 'binary') return typeParsers[oid] ?? pg.types.getTypeParser(oid, format);
    let parser = textParsers.get(oid);
    if (parser === undefined) textParsers.set(oid, (parser = typeParsers[oid] ?? pg.types.getTypeParser(oid, 'text')));
    return parser;
  }) as typeof pg.types.getTypeParser,
};

export interface PostgresOptions {
  /** Cancels a statement running longer (SQLSTATE 57014 → 503); 0 = no limit. */
  readonly statementTimeoutMs?: number;
  /** Statements with parameters as named prepared statements (VBAPI_PG_PREPARED_STATEMENTS). */
  readonly preparedStatements?: boolean;
}

/**
 * Names of prepared statements, one per SQL text, shared by every connection of the process: a
 * connection parses and plans a statement the first time it runs it, then only binds and executes
 * it (`pg` remembers per connection which names it has prepared). Bounded, because list queries
 * vary with their filters and sort order: past the bound, statements go unnamed as before.
 */
const PREPARED_MAX = 256;
const preparedNames = new Map<string, string>();
function prepared(text: string, values: readonly unknown[] | undefined): pg.QueryConfig | string {
  if (!values?.length) return text;
  let name = preparedNames.get(text);
  if (name === undefined) {
    if (preparedNames.size >= PREPARED_MAX) return text;
    preparedNames.set(text, (name = `vbapi_${preparedNames.size + 1}`));
  }
  return { name, text };
}

/** What `pg` keeps per result; only `addFields` is replaced (see ValuesQuery). */
interface ResultInternals {
  fields: unknown[];
  _parsers: ((value: string) => unknown)[] | undefined;
  _types: { getTypeParser: typeof pg.types.getTypeParser } | undefined;
  addFields(fields: { dataTypeID: number; format?: string }[]): void;
}

/** `Result.addFields` without the row template: array rows need only the column parsers. */
function parsersOnly(this: ResultInternals, fields: { dataTypeID: number; format?: string }[]): void {
  const source = this._types ?? pg.types;
  this.fields = fields;
  this._parsers = fields.map((field) => source.getTypeParser(field.dataTypeID, (field.format ?? 'text') as 'text'));
}

/**
 * A query whose rows are arrays of values. Even in array mode `pg` builds, for every result, an
 * object with one key per column (the template of its row objects): for a 98-column record that
 * was 6–12 % of a single-record GET's CPU. This query skips it and keeps the column parsers. It
 * reaches into `pg`'s Result (pg 8): should that ever change shape, the query runs as plain `pg`.
 */
class ValuesQuery extends pg.Query {
  constructor(config: pg.QueryConfig, done: (error: Error | null, rows: unknown[][]) => void) {
    super({ ...config, rowMode: 'array' } as pg.QueryConfig);
    const result = (this as unknown as { _result?: Partial<ResultInternals> })._result;
    if (typeof result?.addFields === 'function' && 'rowAsArray' in result) result.addFields = parsersOnly;
    (this as unknown as { callback: (error: Error | null, result?: { rows: unknown[][] }) => void }).callback = (error, answer) =>
      done(error, answer?.rows ?? []);
  }
}

function valuesOf(client: pg.Client, statement: pg.QueryConfig | string, params: readonly unknown[] | undefined): Promise<unknown[][]> {
  const config = typeof statement === 'string' ? { text: statement } : statement;
  return new Promise((resolve, reject) => {
    client.query(new ValuesQuery({ ...config, values: params as unknown[] | undefined }, (error, rows) => (error ? reject(error) : resolve(rows))));
  });
}

/**
 * A PostgreSQL database reached through the process's connection budget for its server (see
 * pg-budget.ts): connections are opened on demand, shared out fairly across databases, and closed
 * when idle.
 *
 * The statement timeout is asked for twice: as a startup option (every statement of a direct
 * connection) and by `SET LOCAL` in the same round trip as each transaction's BEGIN, because a
 * pooler in transaction mode (PgBouncer) drops startup options: there every transaction (all
 * writes, batches) still gets it; a lone read gets only what the role says (see README, PgBouncer).
 */
export function openPostgres(connectionString: string, logger: Logger, budgets: Budgets, settings: PostgresOptions = {}): Database {
  const timeoutMs = Math.trunc(settings.statementTimeoutMs ?? 0); // an integer from config.ts: safe in SQL text
  const options = `-c TimeZone=UTC -c statement_timeout=${timeoutMs}`;
  const begin = `BEGIN; SET LOCAL statement_timeout = ${timeoutMs}`;
  // A server that does not answer must not hold requests: connecting gives up after 5 s.
  const pool = new BudgetPool(
    budgets.for(connectionString),
    { connectionString, types, options, connectionTimeoutMillis: 5000 },
    (error) => logger.warn({ err: error }, 'idle PostgreSQL connection failed'),
  );
  const statement = settings.preparedStatements ? prepared : (text: string) => text;
  /** One statement on a connection of the budget, given back (or discarded if broken) afterwards. */
  const onConnection = async <T>(run: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = await pool.acquire();
    let failure: Error | undefined;
    try {
      return await run(client);
    } catch (error) {
      failure = error as Error;
      throw error;
    } finally {
      pool.release(client, failure !== undefined && isBrokenConnection(failure));
    }
  };
  const query: Queryable['query'] = (sql, params) =>
    onConnection(async (client) => (await client.query(statement(sql, params), params as unknown[] | undefined)).rows);
  /**
   * The rows' COPY text, encoded when they are handed over (in pieces, never as one string): in a
   * transaction the COPY may wait its turn behind running statements, and the connection should
   * find its text ready then, not wait while this process encodes it (the batch engine hands over
   * a chunk at a time, so the text stays bounded).
   */
  const copyInto = (client: pg.Client, ...[entity, rows]: Parameters<Queryable['copyRows']>): (() => Promise<void>) => {
    const { table, columns, fields } = copyTarget(entity);
    let pieces: string[];
    try {
      pieces = [...copyPieces(rows, fields)];
    } catch (error) {
      return () => Promise.reject(error); // a rejection in turn, never a throw at the caller
    }
    return () => pipeline(Readable.from(pieces), client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`)));
  };
  return {
    query,
    queryValues: (sql, params) => onConnection((client) => valuesOf(client, statement(sql, params), params)),
    copyRows: (entity, rows) => onConnection((client) => copyInto(client, entity, rows)()),
    async transaction(work) {
      const client = await pool.acquire();
      let broken: Error | undefined;
      try {
        await client.query(begin);
        // Statements may be handed over before the previous one has answered (the batch pipeline):
        // they are sent one after another, each as soon as the one before it is done (`pg` itself
        // deprecates queueing a query on a busy client).
        let tail: Promise<unknown> = Promise.resolve();
        const inTurn = <T>(run: () => Promise<T>): Promise<T> => {
          const next = tail.then(run, run);
          tail = next.catch(() => undefined);
          return next;
        };
        const result = await work({
          query: (sql, params) => inTurn(async () => (await client.query(statement(sql, params), params as unknown[])).rows),
          queryValues: (sql, params) => inTurn(() => valuesOf(client, statement(sql, params), params)),
          copyRows: (entity, rows) => inTurn(copyInto(client, entity, rows)),
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (isBrokenConnection(error)) broken = error as Error;
        // A connection that cannot even roll back is discarded; one that did is as good as new.
        else await client.query('ROLLBACK').catch((rollbackFailure: Error) => (broken = rollbackFailure));
        throw error;
      } finally {
        pool.release(client, broken !== undefined);
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
