import { listStatements, UNBOUNDED_BYTES } from '../derive/sql.js';
import { couldBeKey, describeErrors, rowsJson, type Row } from '../derive/validate.js';
import { referrersOf, type Entity } from '../entities/index.js';
import { ApiError, badRequest, notFound } from '../http/errors.js';
import type { Database } from '../store/database.js';
import { classify, withRetry } from '../store/errors.js';
import type { ListQuery } from './list-query.js';
import { toRecord, type ApiRecord } from './records.js';
import { compileRecord, type CompiledRecord } from './compiled.js';
import { referenceChecker } from './references.js';

/** A list page's bytes of unbounded text read at once (one larger value is read alone). */
const LIST_PIECE_BYTES = 8 * 1024 * 1024;

/** Where a list page goes, piece by piece. */
export interface PageSink {
  /** Called once, with the total count, before any record. */
  start(total: number): void;
  /** Records as JSON text, comma-separated (no leading comma); resolves when more may be written. */
  write(text: string, last: boolean): Promise<void>;
}

/** Single-record operations and lists of one record type, on a tenant database. */
export function repository(entity: Entity, compiled: CompiledRecord = compileRecord(entity)) {
  const { sql, validate } = compiled;
  const danglingReferences = referenceChecker(compiled.references);
  const keyName = entity.key.name;
  const referrers = referrersOf(entity);
  const missing = (key: string) => notFound(`No ${entity.label} has ${keyName} "${key}"`);

  /** The body as a row, or a 400 listing every problem. */
  function rowOf(body: unknown): Row {
    const checked = validate(body);
    if (checked.ok) return checked.row;
    throw badRequest(`The ${entity.label} is invalid: ${describeErrors(checked.errors)}`, checked.errors);
  }

  /** Writes one row after its references are checked (and locked), in one transaction. */
  async function write(db: Database, row: Row, statement: string, params: unknown[]): Promise<ApiRecord | null> {
    return withRetry(() =>
      db.transaction(async (tx) => {
        const dangling = (await danglingReferences(tx, [row])).get(0);
        if (dangling) throw new ApiError(422, dangling);
        const [stored] = await tx.query(statement, [rowsJson(entity, row), ...params]);
        return stored ? toRecord(entity, stored) : null;
      }),
    );
  }

  return {
    /**
     * The record as JSON text, written by the database: this process neither parses its values nor
     * serialises an object (GET /groups/{groupID} went from 3,760 to 4,880 requests/s, BENCHMARKS.md).
     */
    async getJson(db: Database, key: string): Promise<string> {
      const [values] = couldBeKey(entity, key) ? await db.queryValues(sql.selectJsonByKey, [key]) : [];
      if (!values) throw missing(key);
      return values[0] as string;
    },

    async create(db: Database, body: unknown, user: string | null): Promise<ApiRecord> {
      const row = rowOf(body);
      const stored = await write(db, row, sql.insertOne, [user]);
      if (!stored) throw new ApiError(409, `A ${entity.label} with ${keyName} "${String(row[keyName])}" already exists`);
      return stored;
    },

    /** Full replacement: the body's key, when present, must be the path's. */
    async replace(db: Database, key: string, body: unknown, user: string | null): Promise<ApiRecord> {
      // A key that could not be stored names no record: 404, as GET and DELETE answer, whatever the body.
      if (!couldBeKey(entity, key)) throw missing(key);
      if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
        const bodyKey = (body as Record<string, unknown>)[keyName];
        if (bodyKey !== undefined && bodyKey !== null && bodyKey !== key) {
          // Not String(bodyKey): it may be any JSON value, and describing it must not walk it.
          throw badRequest(`${keyName} in the body differs from the path ("${key}")`, [
            { field: keyName, message: 'must match the key in the path' },
          ]);
        }
        body = { ...body, [keyName]: key };
      }
      const row = rowOf(body);
      const stored = await write(db, row, sql.replaceOne, [user, key]);
      if (!stored) throw missing(key);
      return stored;
    },

    async remove(db: Database, key: string): Promise<void> {
      try {
        const deleted = couldBeKey(entity, key) ? await db.query(sql.deleteOne, [key]) : [];
        if (deleted.length === 0) throw missing(key);
      } catch (error) {
        if (classify(error) !== 'reference') throw error;
        throw new ApiError(409, `The ${entity.label} "${key}" is still used by ${referrers.map((other) => `${other.label} records`).join(', ')}; nothing was deleted`);
      }
    },

    /**
     * One page, handed to `sink` in pieces: the total first, then the records as JSON text. The
     * page's bounded fields are read at once; its unbounded ones (`notes`) in pieces of at most
     * LIST_PIECE_BYTES (or one value, if larger), so memory stays bounded however much a row
     * holds, and no page is ever one string (V8 refuses strings over ~512 MB).
     */
    async list(db: Database, query: ListQuery, sink: PageSink): Promise<void> {
      const { count, page, unbounded } = listStatements(entity, query.filters.map(([field]) => field), query.order);
      const values = query.filters.map(([, value]) => value);
      // One transaction, so the total and the page describe the same snapshot (PostgreSQL: REPEATABLE READ).
      await db.transaction(async (tx) => {
        await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const [{ total } = { total: 0 }] = await tx.query<{ total: number }>(count, values);
        const rows = await tx.query(page, [...values, query.pageSize, (query.page - 1) * query.pageSize]);
        sink.start(total);
        for (let first = 0; first < rows.length; ) {
          let end = first + 1;
          let bytes = Number(rows[first]![UNBOUNDED_BYTES]);
          while (end < rows.length && bytes + Number(rows[end]![UNBOUNDED_BYTES]) <= LIST_PIECE_BYTES) bytes += Number(rows[end++]![UNBOUNDED_BYTES]);
          const piece = rows.slice(first, end);
          const keys = piece.filter((row) => Number(row[UNBOUNDED_BYTES]) > 0).map((row) => row[keyName]);
          const extra = new Map<unknown, Record<string, unknown>>();
          if (unbounded && keys.length) for (const row of await tx.query(unbounded, [JSON.stringify(keys)])) extra.set(row[keyName], row);
          const text = piece.map((row) => JSON.stringify(toRecord(entity, { ...row, ...extra.get(row[keyName]) }))).join(',');
          first = end;
          await sink.write(text, first === rows.length);
        }
      });
    },
  };
}
