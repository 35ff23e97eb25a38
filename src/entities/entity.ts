import type { audit, Field, RecordOf } from './field.js';

/** What a record description states; everything else is derived by `defineEntity`. */
export interface EntityDescription<Fields extends readonly Field[] = readonly Field[]> {
  /** Internal name, also used by `references`. */
  readonly name: string;
  /** How messages name one record, e.g. `benefit category`. */
  readonly label: string;
  /** The vendor's schema name (OpenAPI component), e.g. `Groups`. */
  readonly schemaName: string;
  /** SQL table name. */
  readonly table: string;
  /** URL segment of the resource: `/groups`, `/groups/{key}`, `/groups-batch`. */
  readonly path: string;
  /** Name of the key path parameter in the vendor's API, e.g. `groupID`. */
  readonly keyParam: string;
  readonly fields: Fields;
  /** Exact-match list filters: query parameter → field name, e.g. `benefitCategory` → `benefit_Category`. */
  readonly filters?: Readonly<Record<string, string>>;
}

export interface Entity<Fields extends readonly Field[] = readonly Field[]> extends EntityDescription<Fields> {
  readonly key: Field;
  readonly batchPath: string;
  /** Fields a client writes (everything but the server-owned audit fields). */
  readonly clientFields: readonly Field[];
  /** Their names, in order (what the upsert statements' JSON carries). */
  readonly clientFieldNames: readonly string[];
  /** Fields referring to another entity's key. */
  readonly references: readonly Field[];
}

export function defineEntity<const Fields extends readonly Field[]>(description: EntityDescription<Fields>): Entity<Fields> {
  const keys = description.fields.filter((field) => field.isKey);
  const [key] = keys;
  if (!key || keys.length !== 1) throw new Error(`${description.name}: exactly one key field is required`);
  const names = new Set(description.fields.map((field) => field.name));
  if (names.size !== description.fields.length) throw new Error(`${description.name}: duplicate field name`);
  for (const field of Object.values(description.filters ?? {})) {
    if (!names.has(field)) throw new Error(`${description.name}: filter on unknown field ${field}`);
  }
  return {
    ...description,
    key,
    batchPath: `${description.path}-batch`,
    clientFields: description.fields.filter((field) => !field.audit),
    clientFieldNames: description.fields.filter((field) => !field.audit).map((field) => field.name),
    references: description.fields.filter((field) => field.references),
  };
}

/** The TypeScript type of one record type's records, computed from its field list. */
export type RecordType<E extends Entity> = RecordOf<E['fields']>;

/** The fields a client writes, typed: a record without its server-owned audit fields. */
export type ClientRecord<E extends Entity> = Omit<RecordType<E>, (typeof audit)[keyof typeof audit]['name']>;
