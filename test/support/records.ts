import { benefitCategoryFields, benefitFields, groupFields, type ContractField } from './contract-fields.js';

export type Json = Record<string, unknown>;

const AUDIT = new Set(['entry_Date', 'entry_User', 'update_Date', 'update_User']);

/** The smallest valid record: its key plus every required field. */
function minimal(fields: ContractField[], key: string): Json {
  const record: Json = {};
  for (const field of fields) {
    if (!field.required) continue;
    record[field.name] = field.type === 'boolean' ? false : 'Y'.repeat(field.minLength ?? 1);
  }
  record[fields[0]!.name] = key;
  return record;
}

export const group = (id: string, extra: Json = {}): Json => ({ ...minimal(groupFields, id), ...extra });
export const benefit = (code: string, extra: Json = {}): Json => ({ ...minimal(benefitFields, code), ...extra });
export const category = (name: string, extra: Json = {}): Json => ({ benefit_Category: name, ...extra });

/** Non-ASCII text of exactly `length` code points: accents, CJK and astral-plane characters (two UTF-16 units each). */
export function wideText(length: number, seed = 0): string {
  const alphabet = ['é', 'ß', '中', '文', '😀', 'Ω', 'ñ', '𝄞', 'ü', 'ø'];
  return Array.from({ length }, (_, index) => alphabet[(index + seed) % alphabet.length]).join('');
}

/**
 * A record with every client field set: strings at their maximum length in non-ASCII text,
 * integers at the int32 limits, a double, dates and both boolean values.
 */
export function maximal(fields: ContractField[], key: string, seed = 1): Json {
  const record: Json = {};
  fields.forEach((field, index) => {
    if (AUDIT.has(field.name)) return;
    switch (field.type) {
      case 'string':
        record[field.name] = wideText(field.maxLength ?? 5000, seed + index);
        break;
      case 'boolean':
        record[field.name] = (index + seed) % 2 === 0;
        break;
      case 'int32':
        record[field.name] = index % 2 === 0 ? 2_147_483_647 : -2_147_483_648;
        break;
      case 'double':
        record[field.name] = 12345.678901234;
        break;
      case 'date-time':
        record[field.name] = `20${10 + (index % 20)}-0${1 + (index % 9)}-1${index % 10}T0${index % 10}:15:30.${String(index).padStart(3, '0')}Z`;
        break;
    }
  });
  record[fields[0]!.name] = key;
  return record;
}

export const maximalGroup = (id: string, seed?: number) => maximal(groupFields, id, seed);
export const maximalBenefit = (code: string, categoryName: string, seed?: number) => ({
  ...maximal(benefitFields, code, seed),
  benefit_Category: categoryName,
});
export const maximalCategory = (name: string, seed?: number) => maximal(benefitCategoryFields, name, seed);
