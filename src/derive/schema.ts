import type { Entity, Field } from '../entities/index.js';

/**
 * The tenant schema as data: what the record descriptions ask the database to be. The migration
 * generator compares it with the committed snapshot (the schema the committed migrations build)
 * and writes the difference as the next migration. Constraint names are the ones PostgreSQL
 * chose when the first release created its tables without naming them, so the snapshot also
 * describes databases made by that release.
 */
export interface ColumnSchema {
  readonly name: string;
  /** SQL type as written in DDL: `varchar(20)`, `text`, `boolean`, `integer`, `double precision`, `timestamptz(3)`. */
  readonly type: string;
  readonly collation?: string;
  readonly notNull: boolean;
  /** SQL expression. */
  readonly default?: string;
}

export interface TableSchema {
  readonly name: string;
  readonly columns: readonly ColumnSchema[];
  readonly primaryKey: { readonly name: string; readonly columns: readonly string[] };
  readonly checks: readonly { readonly name: string; readonly column: string; readonly expression: string }[];
  readonly foreignKeys: readonly {
    readonly name: string;
    readonly columns: readonly string[];
    readonly table: string;
    readonly references: readonly string[];
    readonly onDelete: 'RESTRICT';
  }[];
  readonly indexes: readonly { readonly name: string; readonly columns: readonly string[] }[];
}

export interface SchemaSnapshot {
  /** The format of this file, not a migration number. */
  readonly format: 1;
  /** In dependency order: a referenced table before its referrers. */
  readonly tables: readonly TableSchema[];
}

/** PostgreSQL silently truncates longer identifiers; a truncated name would drift from the snapshot. */
const MAX_IDENTIFIER_BYTES = 63;

function name(text: string): string {
  if (Buffer.byteLength(text) > MAX_IDENTIFIER_BYTES) throw new Error(`SQL name ${text} is longer than ${MAX_IDENTIFIER_BYTES} bytes`);
  return text;
}

/** A field's column type and collation, as its table declares them (and as statements that name the column's type must). */
export function columnType(field: Field): { readonly type: string; readonly collation?: string } {
  const type = {
    string: field.maxLength === undefined ? 'text' : `varchar(${field.maxLength})`,
    boolean: 'boolean',
    int32: 'integer',
    double: 'double precision',
    // Millisecond precision: what JSON dates carry, so a value read back equals the value written.
    'date-time': 'timestamptz(3)',
  }[field.type];
  // COLLATE "C": byte order = code point order, identical on PGlite and every PostgreSQL server.
  return field.type === 'string' ? { type, collation: 'C' } : { type };
}

function columnOf(field: Field): ColumnSchema {
  return {
    name: name(field.name),
    ...columnType(field),
    notNull: field.defaultValue !== undefined || !field.nullable,
    ...(field.defaultValue !== undefined ? { default: String(field.defaultValue) } : {}),
  };
}

function tableOf(entity: Entity, entityByName: (name: string) => Entity): TableSchema {
  return {
    name: name(entity.table),
    columns: entity.fields.map(columnOf),
    primaryKey: { name: name(`${entity.table}_pkey`), columns: [entity.key.name] },
    checks: entity.fields
      .filter((field) => field.minLength)
      .map((field) => ({ name: name(`${entity.table}_${field.name}_check`), column: field.name, expression: `char_length(${quote(field.name)}) >= ${field.minLength}` })),
    foreignKeys: entity.references.map((field) => {
      const target = entityByName(field.references as string);
      return { name: name(`${entity.table}_${field.name}_fkey`), columns: [field.name], table: target.table, references: [target.key.name], onDelete: 'RESTRICT' as const };
    }),
    indexes: entity.references.map((field) => ({ name: name(`${entity.table}_${field.name}_idx`), columns: [field.name] })),
  };
}

/**
 * Tables a tenant database holds for the server itself, not derived from a record description.
 * They are declared here as data so that the snapshot describes every table the migrations build:
 * the generator writes their migrations and the drift test catches a change made without one.
 */
export const serverTables: readonly TableSchema[] = [
  {
    // One row per (client, Idempotency-Key) of a batch request: the request's fingerprint and the
    // answer, stored in the same transaction as the batch's writes. `body` is text, not jsonb, so
    // a replay is byte for byte.
    name: 'idempotency_keys',
    columns: [
      { name: 'client_id', type: 'text', notNull: true },
      { name: 'idempotency_key', type: 'text', notNull: true },
      { name: 'fingerprint', type: 'text', notNull: true },
      { name: 'status', type: 'integer', notNull: true },
      { name: 'headers', type: 'text', notNull: true },
      { name: 'body', type: 'text', notNull: true },
      { name: 'created_at', type: 'timestamptz', notNull: true, default: 'now()' },
      { name: 'expires_at', type: 'timestamptz', notNull: true },
    ],
    primaryKey: { name: 'idempotency_keys_pkey', columns: ['client_id', 'idempotency_key'] },
    checks: [],
    foreignKeys: [],
    // Expired keys are deleted by expiry time.
    indexes: [{ name: 'idempotency_keys_expires_at', columns: ['expires_at'] }],
  },
];

/** The schema the record descriptions ask for, and the server's own tables. */
export function deriveSchema(entities: readonly Entity[], entityByName: (name: string) => Entity): SchemaSnapshot {
  return { format: 1, tables: [...entities.map((entity) => tableOf(entity, entityByName)), ...serverTables] };
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
