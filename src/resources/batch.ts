import type { FastifyBaseLogger } from 'fastify';
import { statements } from '../derive/sql.js';
import { describeErrors, recordValidator, rowsJson, type Row, type TextLimits } from '../derive/validate.js';
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

  return async function upsertBatch(db: Database, records: readonly unknown[], context: BatchContext): Promise<BatchOutcome[]> {
    const results = await apply(db, records, context);
    // The one place batch outcomes are counted for /metrics.
    const byStatus = new Map<number, number>();
    for (const result of results) byStatus.set(result.status, (byStatus.get(result.status) ?? 0) + 1);
    for (const [status, count] of byStatus) metrics.batchRecords(entity.name, status, count);
    return results;
  };

  async function apply(db: Database, records: readonly unknown[], context: BatchContext): Promise<BatchOutcome[]> {
    const results: BatchOutcome[] = new Array(records.length);
    const valid: Candidate[] = [];
    records.forEach((record, index) => {
      const checked = validate(record);
      if (checked.ok) {
        valid.push({ index, key: checked.row[keyName] as string, row: checked.row });
      } else {
        const key = (record as Record<string, unknown> | null)?.[keyName];
        results[index] = outcome(typeof key === 'string' ? key : null, 400, describeErrors(checked.errors));
      }
    });
    if (valid.length === 0) return results;

    let written;
    try {
      // Retried as a whole on a deadlock or serialization failure; nothing is answered until it commits.
      written = await withRetry(() => db.transaction(async (tx) => {
        const dangling = await danglingReferences(tx, valid.map((candidate) => candidate.row));
        const unresolved = [...dangling].map(([position, body]) => ({ candidate: valid[position]!, body }));
        const applied = valid.filter((_, position) => !dangling.has(position));
        // A key sent several times is applied as if sent one after another: the last valid one is stored.
        const lastByKey = new Map(applied.map((candidate) => [candidate.key, candidate.row]));
        const returned = lastByKey.size ? await write(tx, [...lastByKey.values()], context.user) : [];
        return { unresolved, applied, created: new Set(returned.filter((row) => row.created).map((row) => row.key)) };
      }));
    } catch (error) {
      if (classify(error) === 'unavailable') throw unavailable('The database is unavailable; nothing was applied. Retry later.', error);
      // The transaction rolled back: none of this request's records were written.
      context.log.error({ err: error, entity: entity.name }, 'batch transaction failed');
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
    refreshStatistics(db, entity.table, written.created.size, context.log);
    for (const { candidate, body } of written.unresolved) results[candidate.index] = outcome(candidate.key, 422, body);
    const seen = new Set<string>();
    for (const candidate of written.applied) {
      const created = !seen.has(candidate.key) && written.created.has(candidate.key);
      seen.add(candidate.key);
      results[candidate.index] = outcome(candidate.key, created ? 201 : 200, created ? 'Created' : 'Updated');
    }
    return results;
  }
}
