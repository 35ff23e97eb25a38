/**
 * The vocabulary every record description is written in. One call = one field;
 * validation, SQL, COPY text and the OpenAPI schemas are all computed from these objects.
 */
export type FieldType = 'string' | 'boolean' | 'int32' | 'double' | 'date-time';

/** Server-owned audit columns: clients may send them, the server ignores them. */
export type AuditRole = 'entryDate' | 'entryUser' | 'updateDate' | 'updateUser';

export interface Field {
  /** The vendor's JSON name, case-sensitive; also the SQL column name. */
  readonly name: string;
  readonly type: FieldType;
  /** May the stored/returned value be null? */
  readonly nullable: boolean;
  /** Must clients send it, non-null, on every write? */
  readonly required: boolean;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly isKey?: boolean;
  readonly audit?: AuditRole;
  /** Value stored when a client omits the field or sends null (the field is then never null). */
  readonly defaultValue?: boolean;
  /** Name of the entity whose key this field refers to (a foreign key). */
  readonly references?: string;
}

/** The record's key: a required, non-empty string. */
export const key = (name: string, maxLength: number): Field => ({
  name, type: 'string', nullable: false, required: true, minLength: 1, maxLength, isKey: true,
});

/** A string; required ones are non-empty, others nullable. `maxLength` omitted = unbounded. */
export const text = (
  name: string,
  maxLength?: number,
  options: { required?: boolean; references?: string } = {},
): Field => ({
  name,
  type: 'string',
  nullable: !options.required,
  required: options.required ?? false,
  ...(options.required ? { minLength: 1 } : {}),
  ...(maxLength !== undefined ? { maxLength } : {}),
  ...(options.references ? { references: options.references } : {}),
});

/** A boolean: required and non-null, unless it has a default (then optional and stored as the default). */
export const flag = (name: string, options: { default?: boolean } = {}): Field =>
  options.default === undefined
    ? { name, type: 'boolean', nullable: false, required: true }
    : { name, type: 'boolean', nullable: true, required: false, defaultValue: options.default };

export const int32 = (name: string): Field => ({ name, type: 'int32', nullable: true, required: false });
export const double = (name: string): Field => ({ name, type: 'double', nullable: true, required: false });
export const date = (name: string): Field => ({ name, type: 'date-time', nullable: true, required: false });

/** The four audit fields every record carries; where they sit in a record is up to its description. */
export const audit = {
  entryDate: { name: 'entry_Date', type: 'date-time', nullable: false, required: false, audit: 'entryDate' },
  entryUser: { name: 'entry_User', type: 'string', nullable: true, required: false, maxLength: 20, audit: 'entryUser' },
  updateDate: { name: 'update_Date', type: 'date-time', nullable: false, required: false, audit: 'updateDate' },
  updateUser: { name: 'update_User', type: 'string', nullable: true, required: false, maxLength: 20, audit: 'updateUser' },
} as const satisfies Record<AuditRole, Field>;
