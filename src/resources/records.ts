import type { Entity } from '../entities/index.js';

export type ApiRecord = Record<string, string | number | boolean | null>;

/** A stored row as the API returns it: every field in the vendor's order, dates as ISO 8601 UTC. */
export function toRecord(entity: Entity, row: Record<string, unknown>): ApiRecord {
  const record: ApiRecord = {};
  for (const field of entity.fields) {
    const value = row[field.name];
    record[field.name] = value instanceof Date ? value.toISOString() : ((value ?? null) as ApiRecord[string]);
  }
  return record;
}
