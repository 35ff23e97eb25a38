import type { FastifyBaseLogger } from 'fastify';
import { statements } from '../derive/sql.js';
import { describeErrors, recordValidator, rowsJson, type FieldError, type Row, type TextLimits } from '../derive/validate.js';
import { entityNamed, type Entity } from '../entities/index.js';
import { copyText } from '../derive/copy.js';
import type { Database, Queryable } from '../store/database.js';
import { classify, withRetry } from '../store/errors.js';
import { refreshStatistics } from '../store/statistics.js';
import { unavailable } from '../http/errors.js';
import { metrics } from '../http/metrics.js';
import { referenceChecker } from './references.js';

/** One entry of a batch answer, in the vendor's `MultiCodeResponse` shape. */
export interface BatchOutcome {
  readonly id: [{ readonly key: string; readonly value: string | null }];
  readonly status: number;
  readonly body: string;
}

export interface BatchContext {
  /** The authenticated user, written to the audit fields. */
  readonly user: string | null;
  readonly activityID: string;
  readonly log: FastifyBaseLogger;
}

/** COPY costs a statement or two more: worth it from this many rows… */
const COPY_MIN_ROWS = 50;
/** …when at least this share of their fields is present (measured: groups ~1/3 full favour JSON, benefits ~1/2 full COPY). */
const COPY_MIN_DENSITY = 0.45;

interface Candidate {
  readonly index: number;
  readonly key: string;
  readonly row: Row;
}

/**
 * The batch upsert of one record type. Records are validated one by one; the valid ones are
 * written with a few set-based statements in one transaction: one query per reference to find
 * (and lock) the referenced keys, so a record naming a missing one gets its own 422, then one
 * INSERT … ON CONFLICT for every distinct key. Answers keep the input order.
 */
export function batchUpserter(entity: Entity, limits?: TextLimits) {
  const validate = recordValidator(entity, limits);
  const sql = statements(entity, entityNamed);
  const keyName = entity.key.name;
  const danglingReferences = referenceChecker(entity);
  const outcome = (value: string | null, status: number, body: string): BatchOutcome => ({
    id: [{ key: keyName, value }],
    status,
    body,
  });

  /**
   * Rows go in as one JSON parameter (json_populate_recordset), or by COPY into a per-session
   * staging table and one INSERT … SELECT … ON CONFLICT. COPY carries every column (absent ones as
   * \N) while the JSON carries only the fields present, so COPY wins for large batches of mostly
   * filled rows and JSON for sparse ones (BENCHMARKS.md).
   */
  async function write(tx: Queryable, rows: Row[], user: string | null): Promise<{ key: string; created: boolean }[]> {
    // Rows are the clients' own objects: their keys approximate the fields present (a field sent as
    // null also travels in the JSON), and counting them is cheaper than probing 79 fields a row.
    let present = 0;
    for (const row of rows) present += Object.keys(row).length;
    const density = present / (rows.length * entity.clientFields.length);
    if (rows.length < COPY_MIN_ROWS || density < COPY_MIN_DENSITY) return tx.query(sql.upsert, [rowsJson(entity, rows), user]);
    await tx.query(sql.staging.create);
    await tx.copyFrom(sql.staging.table, sql.staging.columns, copyText(rows, entity.clientFields));
    return tx.query(sql.upsertFromStaging, [user]);
  }

  const fieldNames = new Set(entity.fields.map((field) => field.name));
  /** `Prefer: handling=strict`: fields the record type does not have, each named. */
  const unknownFields = (record: unknown): FieldError[] =>
    typeof record === 'object' && record !== null && !Array.isArray(record)
      ? Object.keys(record).filter((name) => !fieldNames.has(name)).map((name) => ({ field: name, message: 'unknown field' }))
      : [];

  return async function upsertBatch(
    db: Database,
    records: readonly unknown[],
    context: BatchContext,
    options: BatchOptions = {},
  ): Promise<BatchOutcome[]> {
    const results = await apply(db, records, context, options);
    // The one place batch outcomes are counted for /metrics.
    const byStatus = new Map<number, number>();
    for (const result of results) byStatus.set(result.status, (byStatus.get(result.status) ?? 0) + 1);
    for (const [status, count] of byStatus) metrics.batchRecords(entity.name, status, count);
    return results;
  };

  async function apply(db: Database, records: readonly unknown[], context: BatchContext, options: BatchOptions): Promise<BatchOutcome[]> {
    const checked: BatchOutcome[] = new Array(records.length);
    const valid: Candidate[] = [];
    records.forEach((record, index) => {
      const unknown = options.strict ? unknownFields(record) : [];
      const result = validate(record);
      if (result.ok && unknown.length === 0) {
        valid.push({ index, key: result.row[keyName] as string, row: result.row });
      } else {
        const key = (record as Record<string, unknown> | null)?.[keyName];
        const errors = [...unknown, ...(result.ok ? [] : result.errors)];
        checked[index] = outcome(typeof key === 'string' ? key : null, 400, describeErrors(errors));
      }
    });
    if (valid.length === 0 && !options.idempotency) return checked;

    // Writes go in a savepoint so that a dry run or a failed all-or-none batch can drop them and
    // still commit the Idempotency-Key's answer.
    const undoable = options.validateOnly || options.allOrNone;
    let createdCount = 0;
    let answered: BatchOutcome[];
    try {
      // Retried as a whole on a deadlock or serialization failure; nothing is answered until it commits.
      // The answer is built inside the transaction because the Idempotency-Key stores it with the writes.
      answered = await withRetry(() => db.transaction(async (tx) => {
        const results = [...checked];
        createdCount = 0;
        await hook(() => options.idempotency?.claim(tx));
        if (undoable) await tx.query('SAVEPOINT batch_writes');
        const dangling = valid.length ? await danglingReferences(tx, valid.map((candidate) => candidate.row)) : new Map<number, string>();
        const applied = valid.filter((_, position) => !dangling.has(position));
        // A key sent several times is applied as if sent one after another: the last valid one is stored.
        const lastByKey = new Map(applied.map((candidate) => [candidate.key, candidate.row]));
        const returned = lastByKey.size ? await write(tx, [...lastByKey.values()], context.user) : [];
        const created = new Set(returned.filter((row) => row.created).map((row) => row.key));
        for (const [position, body] of dangling) results[valid[position]!.index] = outcome(valid[position]!.key, 422, body);
        const seen = new Set<string>();
        for (const candidate of applied) {
          const isNew = !seen.has(candidate.key) && created.has(candidate.key);
          seen.add(candidate.key);
          results[candidate.index] = outcome(candidate.key, isNew ? 201 : 200, isNew ? 'Created' : 'Updated');
        }
        const failed = results.some((entry) => entry.status !== 200 && entry.status !== 201);
        if (options.allOrNone && failed) {
          for (const [index, entry] of results.entries()) {
            if (entry.status === 200 || entry.status === 201) results[index] = outcome(entry.id[0].value, 424, NOT_APPLIED);
          }
        }
        if (options.validateOnly || (options.allOrNone && failed)) await tx.query('ROLLBACK TO SAVEPOINT batch_writes');
        else createdCount = created.size;
        await hook(() => options.idempotency?.store(tx, results));
        return results;
      }));
    } catch (error) {
      if (error instanceof HookError) throw error.cause;
      if (classify(error) === 'unavailable') throw unavailable('The database is unavailable; nothing was applied. Retry later.', error);
      // The transaction rolled back: none of this request's records were written.
      context.log.error({ err: error, entity: entity.name }, 'batch transaction failed');
      const results = [...checked];
      for (const candidate of valid) {
        results[candidate.index] = outcome(
          candidate.key,
          500,
          `Not applied: an unexpected error rolled back this request's writes (activityID ${context.activityID})`,
        );
      }
      return results;
    }
    // Committed: from here on nothing may report "Not applied".
    refreshStatistics(db, entity.table, createdCount, context.log);
    return answered;
  }
}

export const NOT_APPLIED = 'Not applied: another record of this request failed';

/** What a caller may ask of a batch beyond the vendor's per-record upsert. */
export interface BatchOptions {
  /** Run everything, then roll the writes back: the answer says what would happen. */
  readonly validateOnly?: boolean;
  /** Apply nothing unless every record would be 200/201; the others then answer 424. */
  readonly allOrNone?: boolean;
  /** Fields the record type does not have are a 400 (`Prefer: handling=strict`). */
  readonly strict?: boolean;
  /** Called inside the transaction: `claim` before any write, `store` with the answer before commit. */
  readonly idempotency?: {
    claim(tx: Queryable): Promise<void>;
    store(tx: Queryable, results: readonly BatchOutcome[]): Promise<void>;
  };
}

/** An error from a caller's hook: passed through untouched, never turned into per-record 500s. */
class HookError extends Error {
  constructor(override readonly cause: unknown) {
    super('batch hook failed');
  }
}

async function hook(work: () => Promise<void> | undefined): Promise<void> {
  try {
    await work();
  } catch (error) {
    // Database faults inside a hook are the batch's own faults (retry, unavailable, 500s).
    if (classify(error) !== 'other' || !(error instanceof Error) || 'code' in error) throw error;
    throw new HookError(error);
  }
}

/** Counts by outcome, for the log line and the `x-batch-summary` header. */
export function summarise(results: readonly BatchOutcome[]): Record<'created' | 'updated' | 'invalid' | 'unresolved' | 'failed', number> {
  const counts = { created: 0, updated: 0, invalid: 0, unresolved: 0, failed: 0 };
  for (const { status } of results) {
    if (status === 201) counts.created++;
    else if (status === 200) counts.updated++;
    else if (status === 400) counts.invalid++;
    else if (status === 422) counts.unresolved++;
    else counts.failed++; // 424 not applied, 500 rolled back
  }
  return counts;
}
