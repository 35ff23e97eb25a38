import type { Entity, Field } from '../entities/index.js';
import { columnType } from './schema.js';

/**
 * The one way an identifier becomes SQL text. Only names from the record descriptions (and
 * allow-listed database names) are ever passed here; values always travel as `$n` parameters.
 */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The SQL statements of one record type, computed once from its description. */
export interface Statements {
  /**
   * $1 = JSON array of rows, $2 = acting user. Returns `key` and `created` per distinct key. The
   * one statement most tools would issue (json_populate_recordset over every column): the
   * baseline of `npm run bench`; the batch engine sends `upsertFields`, which stores the same.
   */
  readonly upsert: string;
  /**
   * `upsert` for rows that hold only the client fields named in `present` (any other name is
   * ignored): the same writes, absent fields stored as NULL, but PostgreSQL reads and converts only
   * the fields present (see upsertOfFields). The key is always present in a valid row.
   */
  upsertFields(present: ReadonlySet<string>): string;
  /** The per-connection staging table COPY fills for a batch (emptied at commit, and by `empty` for a batch's next chunk). */
  readonly staging: { readonly create: string; readonly empty: string; readonly table: string; readonly columns: string };
  /** $1 = acting user: the staging table's rows, upserted. Returns `key` and `created` per distinct key. */
  readonly upsertFromStaging: string;
  /** $1 = key. Every field, as values (the GET baseline of `npm run bench`). */
  readonly selectByKey: string;
  /** $1 = key. The record as the API's JSON text, built by the database (see recordJson). */
  readonly selectJsonByKey: string;
  /** $1 = JSON row, $2 = acting user. Returns the stored record, or nothing when the key exists. */
  readonly insertOne: string;
  /** $1 = JSON row, $2 = acting user, $3 = key. Returns the stored record, or nothing when the key is unknown. */
  readonly replaceOne: string;
  /** $1 = key. Returns the key, or nothing when it is unknown. */
  readonly deleteOne: string;
  /** Per referencing field: $1 = JSON array of keys; returns the ones that exist, locked against deletion. */
  readonly existingReferences: ReadonlyMap<string, string>;
}

/**
 * The statements of `entity`. Each call builds them anew: an app builds them once per record type
 * at start-up and shares them between the batch engine, the repository and the reference check
 * (see resources/compiled.ts).
 */
export function statements(entity: Entity, entityByName: (name: string) => Entity): Statements {
  const table = ident(entity.table);
  const key = ident(entity.key.name);
  const clientColumns = entity.clientFields.map((field) => ident(field.name));
  const auditColumns = entity.fields.filter((field) => field.audit);
  const auditValue = (field: Field, user = '$2') => (field.audit === 'entryDate' || field.audit === 'updateDate' ? 'now()' : `${user}::text`);
  const updated = [
    ...entity.clientFields.filter((field) => !field.isKey),
    ...auditColumns.filter((field) => field.audit === 'updateDate' || field.audit === 'updateUser'),
  ].map((field) => `${ident(field.name)} = EXCLUDED.${ident(field.name)}`);

  // One statement for inserts and updates; `xmax = 0` is true only for a row this statement inserted.
  // Rows are fed in key order so concurrent batches take their row locks in the same order.
  const allColumns = entity.fields.map((field) => ident(field.name)).join(', ');
  const insertColumns = [...clientColumns, ...auditColumns.map((field) => ident(field.name))].join(', ');
  const insertValues = [...clientColumns, ...auditColumns.map((field) => auditValue(field))].join(', ');
  const upsertFrom = (source: string, user: string) => [
    `INSERT INTO ${table} (${insertColumns})`,
    `SELECT ${[...clientColumns, ...auditColumns.map((field) => auditValue(field, user))].join(', ')}`,
    `FROM ${source} ORDER BY ${key}`,
    `ON CONFLICT (${key}) DO UPDATE SET ${updated.join(', ')}`,
    `RETURNING ${key} AS key, (xmax = 0) AS created`,
  ].join('\n');
  const upsert = upsertFrom(`json_populate_recordset(NULL::${table}, $1::json)`, '$2');
  const upsertFields = upsertOfFields(entity, upsertFrom, upsert);
  const staging = stagingOf(entity);

  const existingReferences = new Map(
    entity.references.map((field) => {
      const target = entityByName(field.references as string);
      const targetKey = ident(target.key.name);
      return [
        field.name,
        `SELECT ${targetKey} AS key FROM ${ident(target.table)} ` +
          `WHERE ${targetKey} IN (SELECT json_array_elements_text($1::json)) ORDER BY ${targetKey} FOR KEY SHARE`,
      ] as const;
    }),
  );

  // Full replacement: every client field from the body (omitted ones become null), update_* set, entry_* kept.
  const replaced = [
    ...entity.clientFields.filter((field) => !field.isKey).map((field) => `${ident(field.name)} = source.${ident(field.name)}`),
    ...auditColumns
      .filter((field) => field.audit === 'updateDate' || field.audit === 'updateUser')
      .map((field) => `${ident(field.name)} = ${auditValue(field)}`),
  ];

  return {
    upsert,
    upsertFields,
    staging,
    upsertFromStaging: upsertFrom(staging.table, '$1'),
    selectByKey: `SELECT ${allColumns} FROM ${table} WHERE ${key} = $1`,
    selectJsonByKey: `SELECT row_to_json(record)::text FROM (SELECT ${recordJsonColumns(entity)} FROM ${table} WHERE ${key} = $1) AS record`,
    insertOne:
      `INSERT INTO ${table} (${insertColumns}) SELECT ${insertValues} FROM json_populate_record(NULL::${table}, $1::json) ` +
      `ON CONFLICT (${key}) DO NOTHING RETURNING ${allColumns}`,
    replaceOne:
      `UPDATE ${table} AS target SET ${replaced.join(', ')} FROM json_populate_record(NULL::${table}, $1::json) AS source ` +
      `WHERE target.${key} = $3 RETURNING ${entity.fields.map((field) => `target.${ident(field.name)}`).join(', ')}`,
    deleteOne: `DELETE FROM ${table} WHERE ${key} = $1 RETURNING ${key} AS key`,
    existingReferences,
  };
}

/**
 * Sets of present fields given a statement of their own, per record type. Every distinct text
 * becomes a prepared statement of the process's bounded few (store/postgres.ts): past this many
 * sets, chunks go by the every-column `upsert`, which stores the same rows.
 */
const FIELD_SETS_KEPT = 16;

/**
 * The upsert over only the client fields a chunk's rows hold. `json_populate_recordset(NULL::table,
 * …)` looks up every column of the table in every row and sets the absent ones to NULL: for groups
 * sent with 27 of their 79 client fields, the function scan of a 500-row chunk took 6.6 ms instead
 * of 5.5 (10,000 groups in chunks of 500: 257–268 -> 242–250 ms; BENCHMARKS.md, fourth round).
 * `json_to_recordset` with a column list of just the present fields, each declared as its table
 * declares it (type and collation, so values convert and keys sort exactly as before), and NULL
 * written for the others, stores the same rows. One text per set of fields, for the first few sets (FIELD_SETS_KEPT).
 */
function upsertOfFields(entity: Entity, upsertFrom: (source: string, user: string) => string, everyColumn: string): (present: ReadonlySet<string>) => string {
  const { clientFields } = entity;
  const texts = new Map<string, string>();
  return (present) => {
    const signature = clientFields.map((field) => (present.has(field.name) ? '1' : '0')).join('');
    let text = texts.get(signature);
    if (text !== undefined) return text;
    if (texts.size >= FIELD_SETS_KEPT) return everyColumn;
    const declared = clientFields.filter((field) => present.has(field.name)).map((field) => {
      const { type, collation } = columnType(field);
      return `${ident(field.name)} ${type}${collation ? ` COLLATE ${ident(collation)}` : ''}`;
    });
    const columns = clientFields.map((field) => (present.has(field.name) ? ident(field.name) : `NULL::${columnType(field).type} AS ${ident(field.name)}`));
    text = upsertFrom(`(SELECT ${columns.join(', ')} FROM json_to_recordset($1::json) AS source(${declared.join(', ')})) AS rows`, '$2');
    texts.set(signature, text);
    return text;
  };
}

/**
 * The columns of a record as the API shows it, for row_to_json: every field in the vendor's order,
 * timestamps as the API's ISO 8601 UTC text with milliseconds (what the type parsers make of them,
 * store/database.ts). Numbers and text are written by PostgreSQL's JSON: the same values as
 * JSON.stringify's, a double perhaps spelled differently (1e+16 for 10000000000000000, 1e-05 for 0.00001).
 */
function recordJsonColumns(entity: Entity): string {
  return entity.fields
    .map((field) => {
      const column = ident(field.name);
      if (field.type !== 'date-time') return column;
      return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${column}`;
    })
    .join(', ');
}

/** The per-connection staging table COPY fills for a batch of `entity` (also what the drivers' copyRows writes to). */
export function stagingOf(entity: Entity): Statements['staging'] {
  const table = ident(`${entity.table}_staging`);
  const columns = entity.clientFields.map((field) => ident(field.name)).join(', ');
  // Columns and types of the table's client fields, none of its constraints; kept for the session.
  const create = `CREATE TEMP TABLE IF NOT EXISTS ${table} ON COMMIT DELETE ROWS AS SELECT ${columns} FROM ${ident(entity.table)} WITH NO DATA`;
  // TRUNCATE rather than DELETE: a DELETE leaves every chunk's rows behind as dead tuples that the
  // next chunks' scans read again (measured: 10,000 full groups in chunks of 500, 607 -> 537 ms).
  return { create, empty: `TRUNCATE ${table}`, table, columns };
}

export interface SortKey {
  readonly field: Field;
  readonly descending: boolean;
}

/**
 * A page of a list: `count` and `page` share the filter; `page` is ordered by `order` and then by
 * the key, so pages never overlap. Fields come from the description (allow-listed by the caller);
 * the filter values, limit and offset are parameters ($1… filters, then limit, then offset).
 */
/** Text fields without a maximum of their own (`notes`): rows may hold any amount of them. */
const unboundedFields = (entity: Entity): Field[] => entity.fields.filter((field) => field.type === 'string' && field.maxLength === undefined);

/** The page query's column of the bytes its unbounded fields hold (PostgreSQL reads a value's size without detoasting it). */
export const UNBOUNDED_BYTES = '__unbounded_bytes';

/**
 * A list page without its unbounded fields (their sizes instead, in UNBOUNDED_BYTES), and the
 * query that reads those fields for a set of keys (`$1`, a JSON array of keys): a page is then
 * read in pieces of bounded size, however large the stored values.
 */
export function listStatements(
  entity: Entity,
  filters: readonly Field[],
  order: readonly SortKey[],
): { count: string; page: string; unbounded: string | null } {
  const table = ident(entity.table);
  const where = filters.length ? ` WHERE ${filters.map((field, index) => `${ident(field.name)} = $${index + 1}`).join(' AND ')}` : '';
  const keys = order.some((sort) => sort.field.isKey) ? order : [...order, { field: entity.key, descending: false }];
  const orderBy = keys.map((sort) => `${ident(sort.field.name)} ${sort.descending ? 'DESC' : 'ASC'}`).join(', ');
  const unbounded = unboundedFields(entity);
  const columns = entity.fields.filter((field) => !unbounded.includes(field)).map((field) => ident(field.name));
  const sizes = unbounded.map((field) => `coalesce(octet_length(${ident(field.name)}), 0)`).join(' + ') || '0';
  const key = ident(entity.key.name);
  return {
    count: `SELECT count(*) AS total FROM ${table}${where}`,
    page:
      `SELECT ${columns.join(', ')}, ${sizes} AS ${ident(UNBOUNDED_BYTES)} FROM ${table}${where} ` +
      `ORDER BY ${orderBy} LIMIT $${filters.length + 1} OFFSET $${filters.length + 2}`,
    unbounded: unbounded.length
      ? `SELECT ${key}, ${unbounded.map((field) => ident(field.name)).join(', ')} FROM ${table} ` +
        `WHERE ${key} IN (SELECT json_array_elements_text($1::json))`
      : null,
  };
}
