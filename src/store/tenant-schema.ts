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
  {
    version: 2,
    name: 'idempotency keys of batch requests',
    // One row per (client, Idempotency-Key): the request's fingerprint and the answer stored in the
    // same transaction as the batch's writes. `body` is text, not jsonb, so replays are byte for byte.
    up: async (tx) => {
      await tx.query(
        `CREATE TABLE idempotency_keys (
           client_id text NOT NULL,
           idempotency_key text NOT NULL,
           fingerprint text NOT NULL,
           status integer NOT NULL,
           headers text NOT NULL,
           body text NOT NULL,
           created_at timestamptz NOT NULL DEFAULT now(),
           expires_at timestamptz NOT NULL,
           PRIMARY KEY (client_id, idempotency_key))`,
      );
      await tx.query('CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at)');
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
