import type { Entity, Field } from '../entities/index.js';
import { stagingOf } from './sql.js';
import type { Row } from './validate.js';

/** One value in COPY's text format: `\N` for null; backslash, tab, newline and CR escaped. */
function encode(value: Row[string] | undefined): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number') return String(value);
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (char) => ESCAPES[char]!) : value;
}

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Rows as COPY … FROM STDIN text: one line per row, the given fields in order, tab-separated. */
export function copyText(rows: readonly Row[], fields: readonly Field[]): string {
  const names = fields.map((field) => field.name);
  let text = '';
  for (const row of rows) {
    let line = '';
    for (let index = 0; index < names.length; index++) line += (index ? '\t' : '') + encode(row[names[index]!]);
    text += `${line}\n`;
  }
  return text;
}

/** Rows per piece of COPY text handed to the driver: a piece is a few hundred KiB at most. */
const ROWS_PER_PIECE = 250;

/** The same text in pieces of ROWS_PER_PIECE rows, encoded as the driver asks for them (no whole-batch string). */
export function* copyPieces(rows: readonly Row[], fields: readonly Field[]): Generator<string> {
  for (let start = 0; start < rows.length; start += ROWS_PER_PIECE) yield copyText(rows.slice(start, start + ROWS_PER_PIECE), fields);
}

/**
 * Where COPY puts a record type's rows: its staging table (see sql.ts), the client fields in
 * order. Derived from the record description inside the store, so the driver seam carries rows,
 * never SQL text built by its callers.
 */
export function copyTarget(entity: Entity): { readonly table: string; readonly columns: string; readonly fields: readonly Field[] } {
  const staging = stagingOf(entity);
  return { table: staging.table, columns: staging.columns, fields: entity.clientFields };
}
