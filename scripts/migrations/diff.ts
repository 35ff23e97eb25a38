import type { ColumnSchema, SchemaSnapshot, TableSchema } from '../../src/derive/schema.js';

/**
 * The SQL that takes a database from one schema snapshot to the next, for the changes that are
 * safe on a database full of rows: new tables, new nullable (or defaulted) columns and their
 * constraints, new or dropped indexes, widened lengths, dropped NOT NULL, changed defaults.
 * Anything that could lose or reject existing data (dropping a table or column, narrowing a type,
 * a new required column, a new constraint on existing rows) is reported in `unsupported`: those
 * need a migration written by hand (`--custom`), which knows what to do with the existing rows.
 */
export interface SchemaDiff {
  readonly statements: string[];
  readonly unsupported: string[];
  /** One line per change, to name the migration. */
  readonly changes: string[];
}

export const emptySchema: SchemaSnapshot = { format: 1, tables: [] };

export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const list = (names: readonly string[]) => names.map(ident).join(', ');

export function columnDefinition(column: ColumnSchema): string {
  return [
    ident(column.name),
    column.type,
    ...(column.collation ? [`COLLATE ${ident(column.collation)}`] : []),
    ...(column.notNull ? ['NOT NULL'] : []),
    ...(column.default !== undefined ? [`DEFAULT ${column.default}`] : []),
  ].join(' ');
}

function check(check: TableSchema['checks'][number]): string {
  return `CONSTRAINT ${ident(check.name)} CHECK (${check.expression})`;
}

function foreignKey(key: TableSchema['foreignKeys'][number]): string {
  return `CONSTRAINT ${ident(key.name)} FOREIGN KEY (${list(key.columns)}) REFERENCES ${ident(key.table)} (${list(key.references)}) ON DELETE ${key.onDelete}`;
}

function createIndex(table: string, index: TableSchema['indexes'][number]): string {
  return `CREATE INDEX ${ident(index.name)} ON ${ident(table)} (${list(index.columns)})`;
}

export function createTable(table: TableSchema): string[] {
  const parts = [
    ...table.columns.map(columnDefinition),
    `CONSTRAINT ${ident(table.primaryKey.name)} PRIMARY KEY (${list(table.primaryKey.columns)})`,
    ...table.checks.map(check),
    ...table.foreignKeys.map(foreignKey),
  ];
  return [`CREATE TABLE ${ident(table.name)} (\n  ${parts.join(',\n  ')}\n)`, ...table.indexes.map((index) => createIndex(table.name, index))];
}

const VARCHAR = /^varchar\((\d+)\)$/;

/** varchar(n) → varchar(m ≥ n) or text: every stored value still fits, and PostgreSQL need not rewrite the table. */
function isWidening(from: string, to: string): boolean {
  const before = VARCHAR.exec(from);
  if (!before) return false;
  if (to === 'text') return true;
  const after = VARCHAR.exec(to);
  return after !== null && Number(after[1]) >= Number(before[1]);
}

const byName = <T extends { name: string }>(items: readonly T[]) => new Map(items.map((item) => [item.name, item]));
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function diffSchemas(from: SchemaSnapshot, to: SchemaSnapshot): SchemaDiff {
  const drops: string[] = [];
  const creates: string[] = [];
  const alters: string[] = [];
  const adds: string[] = [];
  const unsupported: string[] = [];
  const changes: string[] = [];
  const before = byName(from.tables);
  const after = byName(to.tables);

  for (const table of from.tables) if (!after.has(table.name)) unsupported.push(`table ${table.name} was removed (its rows would be lost)`);
  for (const table of to.tables) {
    const old = before.get(table.name);
    if (!old) {
      creates.push(...createTable(table));
      changes.push(`add table ${table.name}`);
      continue;
    }
    const t = ident(table.name);
    const where = (what: string) => `${table.name}.${what}`;
    if (!same(old.primaryKey, table.primaryKey)) unsupported.push(`${where('primary key')} changed`);

    const oldColumns = byName(old.columns);
    const newColumns = byName(table.columns);
    const added = new Set<string>();
    for (const column of old.columns) if (!newColumns.has(column.name)) unsupported.push(`${where(column.name)} was removed (its values would be lost)`);
    for (const column of table.columns) {
      const was = oldColumns.get(column.name);
      if (!was) {
        if (column.notNull && column.default === undefined) {
          unsupported.push(`${where(column.name)} is new, NOT NULL and has no default: existing rows need a value`);
        } else {
          alters.push(`ALTER TABLE ${t} ADD COLUMN ${columnDefinition(column)}`);
          changes.push(`add column ${where(column.name)}`);
        }
        added.add(column.name);
        continue;
      }
      const c = `ALTER TABLE ${t} ALTER COLUMN ${ident(column.name)}`;
      if (was.type !== column.type || was.collation !== column.collation) {
        if (was.collation === column.collation && isWidening(was.type, column.type)) {
          alters.push(`${c} TYPE ${column.type}${column.collation ? ` COLLATE ${ident(column.collation)}` : ''}`);
          changes.push(`widen ${where(column.name)} to ${column.type}`);
        } else {
          unsupported.push(`${where(column.name)} changed from ${was.type} to ${column.type}${was.collation !== column.collation ? ' (collation)' : ''}: existing values may not fit`);
        }
      }
      if (was.notNull && !column.notNull) {
        alters.push(`${c} DROP NOT NULL`);
        changes.push(`${where(column.name)} may be null`);
      } else if (!was.notNull && column.notNull) {
        unsupported.push(`${where(column.name)} became NOT NULL: existing rows may hold nulls`);
      }
      if (was.default !== column.default) {
        alters.push(column.default === undefined ? `${c} DROP DEFAULT` : `${c} SET DEFAULT ${column.default}`);
        changes.push(`default of ${where(column.name)}`);
      }
    }

    // Constraints: dropping one only relaxes; adding one is safe only on a column that is new (and so null in every row).
    const constraint = <T extends { name: string }>(kind: string, olds: readonly T[], news: readonly T[], render: (item: T) => string, onNewColumn: (item: T) => boolean) => {
      const oldItems = byName(olds);
      const newItems = byName(news);
      for (const item of olds) {
        if (same(newItems.get(item.name), item)) continue;
        drops.push(`ALTER TABLE ${t} DROP CONSTRAINT ${ident(item.name)}`);
        if (!newItems.has(item.name)) changes.push(`drop ${kind} ${item.name}`);
      }
      for (const item of news) {
        if (same(oldItems.get(item.name), item)) continue;
        if (onNewColumn(item)) {
          adds.push(`ALTER TABLE ${t} ADD ${render(item)}`);
          changes.push(`add ${kind} ${item.name}`);
        } else {
          unsupported.push(`${kind} ${item.name} is new or changed on existing rows: they may not satisfy it`);
        }
      }
    };
    constraint('check', old.checks, table.checks, check, (item) => added.has(item.column));
    constraint('foreign key', old.foreignKeys, table.foreignKeys, foreignKey, (item) => item.columns.every((column) => added.has(column)));

    const oldIndexes = byName(old.indexes);
    const newIndexes = byName(table.indexes);
    for (const index of old.indexes) {
      if (same(newIndexes.get(index.name), index)) continue;
      drops.push(`DROP INDEX ${ident(index.name)}`);
      if (!newIndexes.has(index.name)) changes.push(`drop index ${index.name}`);
    }
    for (const index of table.indexes) {
      if (same(oldIndexes.get(index.name), index)) continue;
      adds.push(createIndex(table.name, index));
      changes.push(`add index ${index.name}`);
    }
  }
  return { statements: [...drops, ...creates, ...alters, ...adds], unsupported, changes };
}
