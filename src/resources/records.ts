import type { Entity } from '../entities/index.js';

export type ApiRecord = Record<string, string | number | boolean | null>;

/**
 * A stored row as the API returns it: every field in the vendor's order. Dates arrive already as
 * ISO 8601 UTC text (the store's type parsers).
 */
export function toRecord(entity: Entity, row: Record<string, unknown>): ApiRecord {
  const record: ApiRecord = {};
  for (const field of entity.fields) record[field.name] = (row[field.name] ?? null) as ApiRecord[string];
  return record;
}
