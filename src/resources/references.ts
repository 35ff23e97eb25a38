import type { Statements } from '../derive/sql.js';
import { isStorableText, type Row } from '../derive/validate.js';
import { entityNamed, type Entity } from '../entities/index.js';
import type { Queryable } from '../store/database.js';

/** Per reference field, the referenced keys that exist (and are locked for the transaction). */
export type ExistingReferences = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * Finds the rows that name a record which does not exist (a benefit's unknown category), with one
 * query per reference field for all rows. The referenced records that do exist are locked
 * (FOR KEY SHARE) until the transaction ends, so they cannot be deleted before the rows are written.
 */
export function referenceChecker(lookup: ReturnType<typeof referenceLookup>) {
  /** Index of each row with a dangling reference → the message naming field and value. */
  return async function danglingReferences(tx: Queryable, rows: readonly Row[]): Promise<Map<number, string>> {
    return lookup.dangling(rows, await lookup.existing(tx, rows));
  };
}

/**
 * The same check in two steps, for a batch written in chunks: `existing` looks up (and locks) every
 * key the records name, once, before the first chunk is written; `dangling` then checks each
 * chunk's rows against that answer without another round trip. `existing` may be given records
 * not yet validated: only text values that could be stored are looked up (the others fail
 * validation anyway).
 */
export function referenceLookup(entity: Entity, sql: Statements) {
  const queries = sql.existingReferences;
  const labelOf = new Map(entity.references.map((field) => [field.name, entityNamed(field.references as string).label]));

  return {
    async existing(tx: Queryable, records: readonly unknown[]): Promise<ExistingReferences> {
      const found = new Map<string, Set<string>>();
      for (const [fieldName, query] of queries) {
        const wanted = new Set<string>();
        for (const record of records) {
          const value = typeof record === 'object' && record !== null ? (record as Record<string, unknown>)[fieldName] : undefined;
          if (typeof value === 'string' && isStorableText(value)) wanted.add(value);
        }
        const keys = wanted.size ? (await tx.query<{ key: string }>(query, [JSON.stringify([...wanted])])).map((row) => row.key) : [];
        found.set(fieldName, new Set(keys));
      }
      return found;
    },

    /** Index of each row with a dangling reference → the message naming field and value. */
    dangling(rows: readonly Row[], existing: ExistingReferences): Map<number, string> {
      const dangling = new Map<number, string>();
      for (const [fieldName, found] of existing) {
        rows.forEach((row, index) => {
          const value = row[fieldName];
          if (value != null && !found.has(value as string) && !dangling.has(index)) {
            dangling.set(index, `${fieldName}: no ${labelOf.get(fieldName)} "${String(value)}" exists`);
          }
        });
      }
      return dangling;
    },
  };
}
