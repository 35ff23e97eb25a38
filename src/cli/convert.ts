import { parseDateTime } from '../derive/dates.js';
import type { Entity, Field } from '../entities/index.js';

/**
 * Text from a CSV or spreadsheet cell → the JSON value a field takes, with one clear message per
 * bad cell (`adult_Age: "twelve" is not an integer`). JSON inputs are already typed and go as they are.
 */
export type Converted = { ok: true; value: unknown } | { ok: false; message: string };

const TRUE = new Set(['true', 'yes', '1', 'y']);
const FALSE = new Set(['false', 'no', '0', 'n']);
const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const US_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;

export function convertText(field: Field, text: string): Converted {
  const bad = (what: string): Converted => ({ ok: false, message: `${field.name}: ${JSON.stringify(text)} is not ${what}` });
  switch (field.type) {
    case 'string':
      return { ok: true, value: text };
    case 'boolean': {
      const lower = text.trim().toLowerCase();
      if (TRUE.has(lower)) return { ok: true, value: true };
      if (FALSE.has(lower)) return { ok: true, value: false };
      return bad('a boolean (true/false, yes/no, 1/0, Y/N)');
    }
    case 'int32': {
      const trimmed = text.trim();
      if (!INTEGER.test(trimmed)) return bad('an integer');
      const value = Number(trimmed);
      return value >= -2_147_483_648 && value <= 2_147_483_647 ? { ok: true, value } : bad('a 32-bit integer');
    }
    case 'double': {
      const trimmed = text.trim();
      return NUMBER.test(trimmed) ? { ok: true, value: Number(trimmed) } : bad('a number');
    }
    case 'date-time': {
      const trimmed = text.trim();
      const us = US_DATE.exec(trimmed);
      const iso = us ? `${us[3]}-${us[1]!.padStart(2, '0')}-${us[2]!.padStart(2, '0')}` : trimmed;
      return parseDateTime(iso) ? { ok: true, value: iso } : bad('a date (ISO 8601 or MM/DD/YYYY)');
    }
  }
}

/** A spreadsheet cell's typed value (number, boolean, Date, text) → the field's JSON value. */
export function convertCell(field: Field, cell: unknown): Converted {
  if (cell instanceof Date) {
    return field.type === 'date-time' ? { ok: true, value: cell.toISOString() } : convertText(field, cell.toISOString());
  }
  if (typeof cell === 'number') {
    // A date cell without its date format reads as Excel's serial day number (days since 1899-12-30).
    if (field.type === 'date-time') return { ok: true, value: new Date(Math.round((cell - 25_569) * 86_400_000)).toISOString() };
    if (field.type === 'double') return { ok: true, value: cell };
    if (field.type === 'int32') return Number.isInteger(cell) ? { ok: true, value: cell } : convertText(field, String(cell));
    if (field.type === 'boolean' && (cell === 0 || cell === 1)) return { ok: true, value: cell === 1 };
    return convertText(field, String(cell));
  }
  if (typeof cell === 'boolean') return field.type === 'boolean' ? { ok: true, value: cell } : convertText(field, String(cell));
  return convertText(field, String(cell));
}

/**
 * Column names → fields: case-insensitive, after an optional mapping (`{"Group Name": "name"}`).
 * Audit columns (an export carries them) are read and dropped: the server owns them. Unknown
 * columns are refused up front rather than silently lost.
 */
export function columnFields(entity: Entity, headers: readonly string[], mapping: Readonly<Record<string, string>> = {}): (Field | null)[] {
  const byName = new Map(entity.fields.map((field) => [field.name.toLowerCase(), field]));
  const mapped = new Map(Object.entries(mapping).map(([from, to]) => [from.toLowerCase(), to.toLowerCase()]));
  const unknown: string[] = [];
  const fields = headers.map((header) => {
    const name = header.trim().toLowerCase();
    const field = byName.get(mapped.get(name) ?? name);
    if (!field) unknown.push(header);
    return field && !field.audit ? field : null;
  });
  if (unknown.length) {
    throw new ImportInputError(`unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => JSON.stringify(name)).join(', ')} for ${entity.path} (use --map to rename)`);
  }
  return fields;
}

/** The input cannot be read as a whole (unknown columns, not a JSON array…): exit 2, nothing sent. */
export class ImportInputError extends Error {}
