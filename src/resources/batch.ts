import type { FastifyBaseLogger } from 'fastify';
import { describeErrors, rowsJson, type FieldError, type Row } from '../derive/validate.js';
import type { MultiCodeResponse } from '../derive/shapes.js';
import type { Entity } from '../entities/index.js';
import type { Database, Queryable } from '../store/database.js';
import { classify, RolledBack, withRetry } from '../store/errors.js';
import { statisticsRefresher } from '../store/statistics.js';
import { metrics } from '../http/metrics.js';
import { chunksOf, DEFAULT_BATCH_CHUNK_ROWS, keyOrder } from './batch-order.js';
import { compileRecord, type CompiledRecord } from './compiled.js';
import type { ExistingReferences } from './references.js';

/** One entry of a batch answer: the documented `MultiCodeResponse` (derive/shapes.ts), its type inferred from the schema. */
export type BatchOutcome = MultiCodeResponse;

export interface BatchContext {
  /** The authenticated user, written to the audit fields. */
  readonly user: string | null;
  readonly activityID: string;
  readonly log: FastifyBaseLogger;
}

/** COPY costs a statement or two more: worth it from this many rows… */
const COPY_MIN_ROWS = 50;
/**
 * …when at least this share of their fields is present. Measured per chunk of 500 (bench:pipeline,
 * PostgreSQL): full groups go 1.5–2× faster by COPY, benefits (half full) and groups (a third
 * full) faster by JSON. (Whole batches in one statement had favoured COPY from about 0.45.)
 */
const COPY_MIN_DENSITY = 0.6;
/** Chunks handed to the driver and not yet answered: one running, one queued behind it. */
const PIPELINE_DEPTH = 2;
/**
 * Records validated between two turns of the event loop while a chunk's statements run: the driver
 * sends a chunk's next statement (COPY, upsert, …) only once this process gets to read that the
 * one before it is done, so validating a whole chunk at a stretch left the database idle.
 */
const VALIDATE_SLICE = 50;

interface Candidate {
  readonly index: number;
  readonly key: string;
  readonly row: Row;
}

export interface BatchSettings {
  /** The cap of text fields without a maximum of their own (see validate.ts). */
  readonly maxTextChars?: number;
  /** Records per chunk (VBAPI_BATCH_CHUNK_ROWS). */
  readonly batchChunkRows?: number;
  /** How rows reach the database: chosen per chunk by its size and density (`auto`), or always one way (bench:pipeline). */
  readonly encoding?: 'auto' | 'json' | 'copy';
}

const NO_DANGLING: ReadonlyMap<number, string> = new Map();
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The batch upsert of one record type, pipelined: records are put in key order and cut into
 * chunks; each chunk is validated, checked for references and encoded, then handed to the
 * database, which works on it while the next chunk is prepared (one transaction, one connection).
 * First one query per reference field for every key the batch names (the found ones locked), so
 * a record naming a missing one gets its own 422; then per chunk one INSERT … ON CONFLICT for its
 * distinct keys. Answers keep the input order; every record of one key is in one chunk, so the
 * last valid one is stored.
 */
export function batchUpserter(entity: Entity, settings: BatchSettings = {}, compiled: CompiledRecord = compileRecord(entity, settings.maxTextChars === undefined ? undefined : { maxTextChars: settings.maxTextChars })) {
  const { sql, validate, references } = compiled;
  const chunkRows = settings.batchChunkRows ?? DEFAULT_BATCH_CHUNK_ROWS;
  const encoding = settings.encoding ?? 'auto';
  const keyName = entity.key.name;
  const refreshStatistics = statisticsRefresher(entity.table);
  const hasReferences = entity.references.length > 0;
  const outcome = (value: string | null, status: number, body: string): BatchOutcome => ({
    id: [{ key: keyName, value }],
    status,
    body,
  });

  /**
   * Hands one chunk's distinct rows to the database and resolves with `key`/`created` per row once
   * it has run them. Rows go in as one JSON parameter (read by json_to_recordset over just the
   * fields present), or by COPY into a per-session staging table and one INSERT … SELECT … ON
   * CONFLICT. COPY carries every column (absent ones as \N) while the JSON carries only the fields
   * present, so COPY wins for mostly filled rows and JSON for sparse ones (BENCHMARKS.md).
   * Statements are queued, not awaited.
   */
  function send(tx: Queryable, rows: Row[], user: string | null, staging: { created: boolean }): Promise<{ key: string; created: boolean }[]> {
    // Rows are the clients' own objects: their keys are the fields present (a field sent as null
    // also travels in the JSON; names that are not client fields are dropped by rowsJson and by
    // upsertFields), and reading them is cheaper than probing 79 fields a row.
    let count = 0;
    const names = new Set<string>();
    for (const row of rows) {
      const keys = Object.keys(row);
      count += keys.length;
      for (const name of keys) names.add(name);
    }
    const density = count / (rows.length * entity.clientFields.length);
    const json = encoding === 'auto' ? rows.length < COPY_MIN_ROWS || density < COPY_MIN_DENSITY : encoding === 'json';
    if (json) return tx.query(sql.upsertFields(names), [rowsJson(entity, rows), user]);
    const steps: Promise<unknown>[] = [];
    if (!staging.created) steps.push(tx.query(sql.staging.create));
    staging.created = true;
    steps.push(tx.copyRows(entity, rows));
    const upserted = tx.query<{ key: string; created: boolean }>(sql.upsertFromStaging, [user]);
    steps.push(upserted, tx.query(sql.staging.empty)); // ready for the next chunk
    return Promise.all(steps).then(() => upserted);
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
    const { order, keys } = keyOrder(records, keyName);
    const chunks = [...chunksOf(order, keys, chunkRows)];
    // Each record is validated once (a retried transaction reuses it), chunk by chunk in write order.
    const checked: BatchOutcome[] = new Array(records.length);
    const validByChunk: Candidate[][] = new Array(chunks.length);
    const check = (into: Candidate[], index: number) => {
      const record = records[index];
      const unknown = options.strict ? unknownFields(record) : [];
      const result = validate(record);
      if (result.ok && unknown.length === 0) into.push({ index, key: result.row[keyName] as string, row: result.row });
      else checked[index] = outcome(keys[index]!, 400, describeErrors([...unknown, ...(result.ok ? [] : result.errors)]));
    };
    const validIn = (chunk: number): Candidate[] => {
      if (validByChunk[chunk]) return validByChunk[chunk];
      const valid: Candidate[] = [];
      for (const index of chunks[chunk]!) check(valid, index);
      return (validByChunk[chunk] = valid);
    };
    /** validIn, letting the event loop turn every VALIDATE_SLICE records (while statements are in flight). */
    const validInTurns = async (chunk: number): Promise<Candidate[]> => {
      if (validByChunk[chunk]) return validByChunk[chunk];
      const valid: Candidate[] = [];
      const indexes = chunks[chunk]!;
      for (let start = 0; start < indexes.length; start += VALIDATE_SLICE) {
        if (start > 0) await nextTurn();
        for (let position = start; position < Math.min(start + VALIDATE_SLICE, indexes.length); position++) check(valid, indexes[position]!);
      }
      return (validByChunk[chunk] = valid);
    };
    // A batch without one valid record is answered without the database, as it always was.
    let anyValid = false;
    for (let chunk = 0; chunk < chunks.length && !anyValid; chunk++) anyValid = validIn(chunk).length > 0;
    if (!anyValid && !options.idempotency) return checked;

    // Writes go in a savepoint so that a dry run or a failed all-or-none batch can drop them and
    // still commit the Idempotency-Key's answer.
    const undoable = options.validateOnly || options.allOrNone;
    let createdCount = 0;
    let answered: BatchOutcome[];
    try {
      // Retried as a whole on a deadlock or serialization failure; nothing is answered until it commits.
      // The answer is built inside the transaction because the Idempotency-Key stores it with the writes.
      answered = await withRetry(() => db.transaction(async (tx) => {
        const results: BatchOutcome[] = new Array(records.length);
        let created = 0;
        await hook(() => options.idempotency?.claim(tx));
        if (undoable) await tx.query('SAVEPOINT batch_writes');
        // Every referenced key the batch names, looked up (and locked) once, before the first chunk.
        const existing: ExistingReferences | null = hasReferences ? await references.existing(tx, records) : null;
        const staging = { created: false };
        const inFlight: Promise<void>[] = [];
        let failure: { error: unknown } | null = null;
        for (let chunk = 0; chunk < chunks.length && !failure; chunk++) {
          const candidates = inFlight.length ? await validInTurns(chunk) : validIn(chunk);
          if (failure) break; // an earlier chunk failed while this one was validated: the transaction is lost
          if (candidates.length === 0) continue;
          const dangling = existing ? references.dangling(candidates.map((candidate) => candidate.row), existing) : NO_DANGLING;
          for (const [position, body] of dangling) results[candidates[position]!.index] = outcome(candidates[position]!.key, 422, body);
          const applied = dangling.size ? candidates.filter((_, position) => !dangling.has(position)) : candidates;
          // A key sent several times is applied as if sent one after another: the last valid one is
          // stored. Records of one key are side by side, in input order.
          const rows = applied.filter((candidate, position) => applied[position + 1]?.key !== candidate.key).map((candidate) => candidate.row);
          if (rows.length === 0) continue;
          inFlight.push(send(tx, rows, context.user, staging).then(
            (returned) => {
              const isNew = new Set(returned.filter((row) => row.created).map((row) => row.key));
              created += isNew.size;
              let previous: string | null = null;
              for (const candidate of applied) {
                const first = candidate.key !== previous && isNew.has(candidate.key);
                previous = candidate.key;
                results[candidate.index] = outcome(candidate.key, first ? 201 : 200, first ? 'Created' : 'Updated');
              }
            },
            (error: unknown) => void (failure ??= { error }),
          ));
          // The database runs this chunk while the next is prepared; a turn of the event loop lets
          // the driver send what it queued and read what came back.
          if (inFlight.length >= PIPELINE_DEPTH) await inFlight.shift();
          else await nextTurn();
        }
        await Promise.all(inFlight);
        if (failure) throw (failure as { error: unknown }).error;
        // The invalid records found while the transaction ran (forEach visits only those set).
        checked.forEach((entry, index) => (results[index] = entry));
        const failed = results.some((entry) => entry.status !== 200 && entry.status !== 201);
        if (options.allOrNone && failed) {
          for (const [index, entry] of results.entries()) {
            if (entry.status === 200 || entry.status === 201) results[index] = outcome(keys[index] ?? null, 424, NOT_APPLIED);
          }
        }
        if (options.validateOnly || (options.allOrNone && failed)) await tx.query('ROLLBACK TO SAVEPOINT batch_writes');
        else createdCount = created;
        await hook(() => options.idempotency?.store(tx, results));
        return results;
      }));
    } catch (error) {
      if (error instanceof HookError) throw error.cause;
      // The app answers 503 for it (and says nothing was applied); the other faults become per-record 500s below.
      if (classify(error) === 'unavailable') throw new RolledBack(error);
      // The transaction rolled back: none of this request's records were written.
      context.log.error({ err: error, entity: entity.name }, 'batch transaction failed');
      const valid = chunks.flatMap((_, chunk) => validIn(chunk)); // the chunks not reached yet are validated too
      const results: BatchOutcome[] = new Array(records.length);
      checked.forEach((entry, index) => (results[index] = entry));
      for (const candidate of valid) {
        results[candidate.index] = outcome(candidate.key, 500, rolledBackByFault(context.activityID));
      }
      return results;
    }
    // Committed: from here on nothing may report "Not applied".
    refreshStatistics(db, createdCount, context.log);
    return answered;
  }
}

export const NOT_APPLIED = 'Not applied: another record of this request failed';

/** A valid record's answer when an unexpected fault rolled the whole transaction back (the fault is logged under the activityID). */
export const rolledBackByFault = (activityID: string) => `Not applied: an unexpected error rolled back this request's writes (activityID ${activityID})`;

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
