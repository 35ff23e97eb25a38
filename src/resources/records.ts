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

/**
 * The same from the row's values in `entity.fields` order (`Queryable.queryValues` of a statement
 * selecting every field, as `selectByKey` does): no intermediate row object.
 */
export function recordFromValues(entity: Entity): (values: readonly unknown[]) => ApiRecord {
  const names = entity.fields.map((field) => field.name);
  return (values) => {
    const record: ApiRecord = {};
    for (let index = 0; index < names.length; index++) record[names[index]!] = (values[index] ?? null) as ApiRecord[string];
    return record;
  };
}
