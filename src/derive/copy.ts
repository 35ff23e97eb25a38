import type { Field } from '../entities/index.js';
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
