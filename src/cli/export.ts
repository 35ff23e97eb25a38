import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import ExcelJS from 'exceljs';
import type { Entity } from '../entities/index.js';
import type { ApiClient } from './api-client.js';
import { progressReporter } from './progress-bar.js';

export type ExportFormat = 'csv' | 'ndjson' | 'xlsx';
const PAGE_SIZE = 1000; // the list API's largest page

/**
 * `vbapi export`: every record through the paged list API, every field in the vendor's order, in a
 * form `vbapi import` reads back unchanged: CSV writes null as an empty cell and the empty string
 * as `""`, booleans as true/false, numbers and ISO dates as the API gives them.
 */
export async function runExport(client: ApiClient, entity: Entity, format: ExportFormat, out: string | undefined, log: (line: string) => void): Promise<number> {
  const names = entity.fields.map((field) => field.name);
  const target: Writable = out ? createWriteStream(out) : process.stdout;
  const writer = format === 'xlsx' ? xlsxWriter(target, names) : format === 'csv' ? csvWriter(target, names) : ndjsonWriter(target, names);
  let total = 0;
  let written = 0;
  const progress = progressReporter(() => ({ done: written, total }), log);
  for (let page = 1; ; page++) {
    const answer = await client.page(entity.path, page, PAGE_SIZE);
    total = answer.total;
    for (const record of answer.records) await writer.write(record);
    written += answer.records.length;
    progress.update(written);
    if (answer.records.length < PAGE_SIZE) break;
  }
  progress.done(written);
  await writer.end();
  if (out) await finished(target);
  return written;
}

interface RecordWriter {
  write(record: Record<string, unknown>): Promise<void>;
  end(): Promise<void>;
}

/** Resolves once `stream` can take more (backpressure), so a large export never piles up in memory. */
const drained = (stream: Writable, ok: boolean) => (ok ? Promise.resolve() : new Promise<void>((resolve) => stream.once('drain', resolve)));

function ndjsonWriter(target: Writable, names: string[]): RecordWriter {
  return {
    write: (record) => drained(target, target.write(`${JSON.stringify(record, names)}\n`)),
    end: async () => {
      if (target !== process.stdout) target.end();
    },
  };
}

function csvWriter(target: Writable, names: string[]): RecordWriter {
  const csv = stringify({
    header: true,
    columns: names,
    // Only the empty string is quoted (`""`); null stays an empty cell. (The `quoted_empty` option would quote both.)
    cast: { boolean: (value) => (value ? 'true' : 'false'), string: (value) => (value === '' ? { value, quoted_empty: true } : value) },
  });
  csv.pipe(target, { end: target !== process.stdout });
  return {
    write: (record) => drained(csv, csv.write(names.map((name) => record[name] ?? null))),
    end: async () => {
      csv.end();
      await finished(csv);
    },
  };
}

function xlsxWriter(target: Writable, names: string[]): RecordWriter {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: target, useSharedStrings: false, useStyles: false });
  const sheet = workbook.addWorksheet('records');
  sheet.addRow(names).commit();
  return {
    write: async (record) => sheet.addRow(names.map((name) => record[name] ?? null)).commit(),
    end: async () => {
      sheet.commit();
      await workbook.commit();
    },
  };
}
