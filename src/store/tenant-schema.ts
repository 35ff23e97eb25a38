import { columnDefinition, createTable, ident } from '../derive/sql.js';
import { entities, entityNamed } from '../entities/index.js';
import type { Queryable } from './database.js';
import type { Migration } from './migrate.js';

/**
 * The schema of a tenant database. Versioned migrations hold what cannot be derived; the tables
 * themselves come from the record descriptions. A field added to a description later reaches
 * existing databases through `addMissingColumns`, so adding an optional field is a one-line change.
 * (A new *required* field needs a versioned migration that fills existing rows first.)
 */
export const tenantMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'records tables from the record descriptions',
    up: async (tx) => {
      for (const entity of entities) for (const sql of createTable(entity, entityNamed)) await tx.query(sql);
    },
  },
];

export async function addMissingColumns(tx: Queryable): Promise<void> {
  const existing = await tx.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`,
  );
  const have = new Set(existing.map((row) => `${row.table_name}.${row.column_name}`));
  for (const entity of entities) {
    for (const field of entity.fields) {
      if (have.has(`${entity.table}.${field.name}`)) continue;
      await tx.query(`ALTER TABLE ${ident(entity.table)} ADD COLUMN ${columnDefinition(field)}`);
    }
  }
}

/** Advisory lock ids: arbitrary constants, one per schema kind. */
export const TENANT_LOCK = 0x76626174; // "vbat"
