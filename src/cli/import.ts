import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { Entity } from '../entities/index.js';
import type { ApiClient } from './api-client.js';
import { ImportInputError } from './convert.js';
import { progressReporter } from './progress-bar.js';
import type { InputRow, Source } from './sources.js';

/**
 * `vbapi import`: rows → batches of `batchSize` → `PUT /<type>-batch`, each with an Idempotency-Key
 * `<run id>:<batch number>`. After each answered batch the report rows are appended and a checkpoint
 * (rows consumed, batches done, report length) is written atomically; `--resume` skips what the
 * checkpoint covers and re-sends from the next batch with the same keys, so a batch that was applied
 * just before an interruption is answered from the server's stored answer, never applied twice.
 */
export interface ImportOptions {
  readonly batchSize: number;
  readonly dryRun: boolean;
  readonly allOrNone: boolean;
  readonly reportPath?: string;
  /** Absent: no checkpoint (seed, dry runs). */
  readonly checkpoint?: { readonly path: string; readonly resume: boolean; readonly input: string };
  readonly log: (line: string) => void;
}

export type Counts = Record<'created' | 'updated' | 'invalid' | 'unresolved' | 'failed', number>;

export interface ImportSummary {
  readonly rows: number;
  readonly counts: Counts;
  readonly seconds: number;
}

interface Checkpoint {
  readonly version: 1;
  readonly runId: string;
  readonly type: string;
  readonly input: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly batchSize: number;
  readonly allOrNone: boolean;
  batchesDone: number;
  rowsDone: number;
  reportBytes: number;
  counts: Counts;
}

interface Pending {
  readonly row: number;
  readonly key: string | null;
  status: number;
  message: string;
}

const REPORT_HEADER = stringify([['row', 'key', 'status', 'message']]);
const NOT_APPLIED_CLIENT_SIDE = 'Not applied: another record of this file failed';

export async function runImport(client: ApiClient, entity: Entity, source: Source, options: ImportOptions): Promise<ImportSummary> {
  const started = Date.now();
  const state = openCheckpoint(entity, options);
  const counts = state.counts;
  const reportPath = options.reportPath;
  if (reportPath) {
    if (options.checkpoint?.resume && existsSync(reportPath)) truncateSync(reportPath, state.reportBytes);
    else writeFileSync(reportPath, REPORT_HEADER);
    state.reportBytes = statSync(reportPath).size;
  }
  const progress = progressReporter(source.progress, options.log);
  let rowsSeen = 0;
  let pending: Pending[] = [];
  let records: Record<string, unknown>[] = [];
  let recordRows: Pending[] = [];

  const count = (status: number) => {
    if (status === 201) counts.created++;
    else if (status === 200) counts.updated++;
    else if (status === 400) counts.invalid++;
    else if (status === 422) counts.unresolved++;
    else counts.failed++;
  };

  const flush = async () => {
    if (records.length) {
      const key = options.dryRun ? null : `${state.runId}:${state.batchesDone}`;
      const { entries } = await client.putBatch(entity.batchPath, records, { key, validateOnly: options.dryRun, allOrNone: options.allOrNone });
      entries.forEach((entry, index) => {
        const target = recordRows[index]!;
        target.status = entry.status;
        target.message = entry.body;
      });
    }
    for (const entry of pending) count(entry.status);
    if (reportPath) {
      appendFileSync(reportPath, stringify(pending.map((entry) => [entry.row, entry.key ?? '', entry.status, entry.message])));
      state.reportBytes = statSync(reportPath).size;
    }
    state.batchesDone++;
    state.rowsDone = rowsSeen;
    saveCheckpoint(options, state);
    progress.update(rowsSeen);
    pending = [];
    records = [];
    recordRows = [];
  };

  for await (const input of source.rows) {
    rowsSeen++;
    if (rowsSeen <= state.rowsDone) continue; // covered by the checkpoint: already sent and reported
    const entry = pendingOf(entity, input);
    pending.push(entry);
    if ('record' in input) {
      if (options.allOrNone && records.length === options.batchSize) {
        throw new ImportInputError(
          `--all-or-none sends the whole file as one request, and it has more than ${options.batchSize} records (--batch-size); ` +
            'raise --batch-size (up to the server\'s VBAPI_MAX_BATCH_RECORDS) or split the file',
        );
      }
      records.push(input.record);
      recordRows.push(entry);
    }
    if (!options.allOrNone && records.length >= options.batchSize) await flush();
    else if (rowsSeen % 1000 === 0) progress.update(rowsSeen);
  }
  if (options.allOrNone && pending.some((entry) => entry.status === 400)) {
    // A row that cannot even be converted fails the file: send nothing.
    for (const entry of recordRows) Object.assign(entry, { status: 424, message: NOT_APPLIED_CLIENT_SIDE });
    records = [];
  }
  if (pending.length) await flush();
  progress.done(rowsSeen);
  if (options.checkpoint) rmSync(options.checkpoint.path, { force: true });
  return { rows: rowsSeen, counts, seconds: (Date.now() - started) / 1000 };
}

function pendingOf(entity: Entity, input: InputRow): Pending {
  if ('error' in input) return { row: input.row, key: null, status: 400, message: input.error };
  const key = input.record[entity.key.name];
  return { row: input.row, key: typeof key === 'string' ? key : null, status: 0, message: '' };
}

function openCheckpoint(entity: Entity, options: ImportOptions): Checkpoint {
  const fresh = (input = '', size = 0, mtimeMs = 0): Checkpoint => ({
    version: 1,
    runId: randomUUID(),
    type: entity.path,
    input,
    size,
    mtimeMs,
    batchSize: options.batchSize,
    allOrNone: options.allOrNone,
    batchesDone: 0,
    rowsDone: 0,
    reportBytes: 0,
    counts: { created: 0, updated: 0, invalid: 0, unresolved: 0, failed: 0 },
  });
  const checkpoint = options.checkpoint;
  if (!checkpoint) return fresh();
  const input = resolve(checkpoint.input);
  const { size, mtimeMs } = statSync(input);
  if (!checkpoint.resume) {
    if (existsSync(checkpoint.path)) {
      throw new ImportInputError(`${checkpoint.path} holds the checkpoint of an interrupted import: add --resume to continue it, or delete the file to start over`);
    }
    return fresh(input, size, mtimeMs);
  }
  if (!existsSync(checkpoint.path)) throw new ImportInputError(`--resume: there is no checkpoint at ${checkpoint.path}`);
  const saved = JSON.parse(readFileSync(checkpoint.path, 'utf8')) as Checkpoint;
  const same = saved.type === entity.path && saved.input === input && saved.size === size && saved.mtimeMs === mtimeMs;
  if (!same) throw new ImportInputError(`--resume: ${checkpoint.path} is the checkpoint of another import (${saved.type} ${saved.input}), or the file changed since`);
  if (saved.batchSize !== options.batchSize || saved.allOrNone !== options.allOrNone) {
    throw new ImportInputError(`--resume: use the options of the interrupted run (--batch-size ${saved.batchSize}${saved.allOrNone ? ' --all-or-none' : ''})`);
  }
  return saved;
}

/** Written to a temporary file and renamed over the old one: a crash leaves the old or the new checkpoint, never half of one. */
function saveCheckpoint(options: ImportOptions, state: Checkpoint): void {
  if (!options.checkpoint) return;
  const temporary = `${options.checkpoint.path}.tmp`;
  writeFileSync(temporary, JSON.stringify(state));
  renameSync(temporary, options.checkpoint.path);
}

export function describeSummary(label: string, summary: ImportSummary, dryRun: boolean): string {
  const { counts } = summary;
  const rate = summary.seconds > 0 ? Math.round(summary.rows / summary.seconds) : summary.rows;
  const would = dryRun ? 'dry run, nothing stored: would be ' : '';
  return (
    `${label}: ${summary.rows} rows in ${summary.seconds.toFixed(1)} s (${rate} rows/s); ${would}` +
    `created ${counts.created}, updated ${counts.updated}, invalid ${counts.invalid}, unresolved ${counts.unresolved}, failed ${counts.failed}`
  );
}
