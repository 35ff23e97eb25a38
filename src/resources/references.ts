import { statements } from '../derive/sql.js';
import type { Row } from '../derive/validate.js';
import { entityNamed, type Entity } from '../entities/index.js';
import type { Queryable } from '../store/database.js';

/**
 * Finds the rows that name a record which does not exist (a benefit's unknown category), with one
 * query per reference field for all rows. The referenced records that do exist are locked
 * (FOR KEY SHARE) until the transaction ends, so they cannot be deleted before the rows are written.
 */
export function referenceChecker(entity: Entity) {
  const queries = statements(entity, entityNamed).existingReferences;
  const labelOf = new Map(entity.references.map((field) => [field.name, entityNamed(field.references as string).label]));

  /** Index of each row with a dangling reference → the message naming field and value. */
  return async function danglingReferences(tx: Queryable, rows: readonly Row[]): Promise<Map<number, string>> {
    const dangling = new Map<number, string>();
    for (const [fieldName, query] of queries) {
      const wanted = [...new Set(rows.map((row) => row[fieldName]).filter((value) => value != null))];
      if (wanted.length === 0) continue;
      const found = new Set((await tx.query<{ key: string }>(query, [JSON.stringify(wanted)])).map((row) => row.key));
      rows.forEach((row, index) => {
        const value = row[fieldName];
        if (value != null && !found.has(value as string) && !dangling.has(index)) {
          dangling.set(index, `${fieldName}: no ${labelOf.get(fieldName)} "${String(value)}" exists`);
        }
      });
    }
    return dangling;
  };
}
