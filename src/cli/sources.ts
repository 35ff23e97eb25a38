import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';
import { parse } from 'csv-parse';
import type ExcelJS from 'exceljs';
import type { Entity, Field } from '../entities/index.js';
import { columnFields, convertCell, convertText, ImportInputError, type Converted } from './convert.js';
import { Utf8WorkbookReader } from './xlsx-reader.js';

/** One input record: its row number (as the file's reader sees it) and either the record or what is wrong with it. */
export type InputRow = { readonly row: number; readonly record: Record<string, unknown> } | { readonly row: number; readonly error: string };

export type Format = 'csv' | 'ndjson' | 'json' | 'xlsx';

export interface Source {
  readonly rows: AsyncIterable<InputRow>;
  /** Bytes of the file read so far, and its size: progress for inputs whose row count is unknown until the end. */
  readonly progress: () => { done: number; total: number };
}

export function formatOf(file: string, explicit: string | undefined): Format {
  const name = (explicit ?? extname(file).slice(1)).toLowerCase();
  if (name === 'csv' || name === 'ndjson' || name === 'json' || name === 'xlsx') return name;
  if (name === 'jsonl') return 'ndjson';
  throw new ImportInputError(`cannot tell the format of "${file}": name it .csv, .ndjson, .json or .xlsx, or give --format`);
}

/**
 * Rows of `file`. CSV and NDJSON are streamed (a row at a time, whatever the file's size); a JSON
 * array is parsed whole; XLSX is read with exceljs's streaming reader.
 * Row numbers: CSV and XLSX count the header as row 1 (as a spreadsheet shows them); NDJSON counts lines; JSON counts elements from 1.
 */
export async function openSource(entity: Entity, file: string, format: Format, options: { mapping?: Record<string, string>; sheet?: string }): Promise<Source> {
  const total = (await stat(file)).size;
  let done = 0;
  const counted = () =>
    createReadStream(file).pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          done += chunk.length;
          callback(null, chunk);
        },
      }),
    );
  const progress = () => ({ done, total });
  switch (format) {
    case 'csv':
      return { rows: csvRows(entity, counted(), options.mapping), progress };
    case 'ndjson':
      return { rows: ndjsonRows(entity, counted(), options.mapping), progress };
    case 'json':
      return { rows: jsonRows(entity, await readFile(file, 'utf8'), options.mapping), progress: () => ({ done: total, total }) };
    case 'xlsx':
      return { rows: xlsxRows(entity, counted(), options), progress };
  }
}

/** Unquoted empty cells are absent (null); a quoted empty cell (`""`) is the empty string, so exports round-trip. */
async function* csvRows(entity: Entity, input: NodeJS.ReadableStream, mapping: Record<string, string> | undefined): AsyncGenerator<InputRow> {
  const parser = input.pipe(
    parse({ bom: true, skip_empty_lines: true, cast: (value, context) => (value === '' && !context.quoting ? null : value) }),
  );
  let fields: (Field | null)[] | null = null;
  let row = 0;
  for await (const cells of parser as AsyncIterable<(string | null)[]>) {
    row++;
    if (!fields) {
      fields = columnFields(entity, cells.map((cell) => cell ?? ''), mapping);
      continue;
    }
    yield typed(row, fields, cells, convertText);
  }
}

function typed<T>(row: number, fields: readonly (Field | null)[], cells: readonly (T | null | undefined)[], convert: (field: Field, cell: T) => Converted): InputRow {
  const record: Record<string, unknown> = {};
  const errors: string[] = [];
  fields.forEach((field, index) => {
    const cell = cells[index];
    // An empty cell is absent, except that a string field keeps an explicit empty string.
    if (!field || cell === null || cell === undefined || (cell === '' && field.type !== 'string')) return;
    const converted = convert(field, cell);
    if (converted.ok) record[field.name] = converted.value;
    else errors.push(converted.message);
  });
  if (cells.length > fields.length && cells.slice(fields.length).some((cell) => cell !== null && cell !== '')) errors.push('more cells than the header has columns');
  return errors.length ? { row, error: `row ${row}, ${errors.join('; ')}` } : { row, record };
}

/** JSON records keep their values; only the keys are matched (mapping, then case-insensitively). */
function renamer(entity: Entity, mapping: Record<string, string> = {}): (record: Record<string, unknown>) => Record<string, unknown> {
  const byName = new Map(entity.fields.map((field) => [field.name.toLowerCase(), field.name]));
  const mapped = new Map(Object.entries(mapping).map(([from, to]) => [from.toLowerCase(), to.toLowerCase()]));
  return (record) => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(record)) {
      const lower = key.toLowerCase();
      out[byName.get(mapped.get(lower) ?? lower) ?? key] = value;
    }
    return out;
  };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

async function* ndjsonRows(entity: Entity, input: NodeJS.ReadableStream, mapping: Record<string, string> | undefined): AsyncGenerator<InputRow> {
  const rename = renamer(entity, mapping);
  let row = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    row++;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      yield { row, error: `row ${row}: not valid JSON` };
      continue;
    }
    yield isObject(value) ? { row, record: rename(value) } : { row, error: `row ${row}: not a JSON object` };
  }
}

async function* jsonRows(entity: Entity, text: string, mapping: Record<string, string> | undefined): AsyncGenerator<InputRow> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ImportInputError('the file is not valid JSON');
  }
  if (!Array.isArray(value)) throw new ImportInputError('a .json file must hold one JSON array of records (use .ndjson for one record a line)');
  const rename = renamer(entity, mapping);
  for (const [index, element] of value.entries()) {
    yield isObject(element) ? { row: index + 1, record: rename(element) } : { row: index + 1, error: `row ${index + 1}: not a JSON object` };
  }
}

/** A cell's value as exceljs reads it: rich text, formulas and hyperlinks reduced to their value. */
function cellValue(value: ExcelJS.CellValue): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object' || value instanceof Date) return value;
  if ('richText' in value) return value.richText.map((part) => part.text).join('');
  if ('result' in value) return cellValue(value.result as ExcelJS.CellValue);
  if ('text' in value) return value.text;
  if ('error' in value) return null;
  return null;
}

async function* xlsxRows(entity: Entity, input: NodeJS.ReadableStream, options: { mapping?: Record<string, string>; sheet?: string }): AsyncGenerator<InputRow> {
  const workbook = new Utf8WorkbookReader(input as never, { worksheets: 'emit', sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'cache', entries: 'ignore' });
  let found = false;
  for await (const worksheet of workbook) {
    const sheet = worksheet as unknown as AsyncIterable<ExcelJS.Row> & { name: string };
    if (found || (options.sheet !== undefined && sheet.name !== options.sheet)) {
      for await (const _ of sheet) void _; // drain: the reader moves on only when a sheet is consumed
      continue;
    }
    found = true;
    let fields: (Field | null)[] | null = null;
    for await (const row of sheet) {
      const cells = (row.values as ExcelJS.CellValue[]).slice(1).map(cellValue);
      if (!fields) {
        fields = columnFields(entity, cells.map((cell) => (cell === null ? '' : String(cell))), options.mapping);
        continue;
      }
      if (cells.every((cell) => cell === null || cell === '')) continue;
      yield typed(row.number, fields, cells, convertCell);
    }
  }
  if (!found) throw new ImportInputError(options.sheet === undefined ? 'the workbook has no sheet' : `the workbook has no sheet named "${options.sheet}"`);
}
