/**
 * The vocabulary every record description is written in. One call = one field;
 * validation, SQL, COPY text and the OpenAPI schemas are all computed from these objects.
 */
export type FieldType = 'string' | 'boolean' | 'int32' | 'double' | 'date-time';

/** Server-owned audit columns: clients may send them, the server ignores them. */
export type AuditRole = 'entryDate' | 'entryUser' | 'updateDate' | 'updateUser';

/**
 * One field. The type parameters keep a description's literal name, type and nullability, so a
 * record's TypeScript type is computed from its field list (`RecordOf`); `Field` alone is any field.
 */
export interface Field<Name extends string = string, Type extends FieldType = FieldType, Nullable extends boolean = boolean> {
  /** The vendor's JSON name, case-sensitive; also the SQL column name. */
  readonly name: Name;
  readonly type: Type;
  /** May the stored/returned value be null? */
  readonly nullable: Nullable;
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
export const key = <const Name extends string>(name: Name, maxLength: number): Field<Name, 'string', false> => ({
  name, type: 'string', nullable: false, required: true, minLength: 1, maxLength, isKey: true,
});

/** A string; required ones are non-empty, others nullable. `maxLength` omitted = unbounded. */
export const text = <const Name extends string, const Required extends boolean = false>(
  name: Name,
  maxLength?: number,
  options: { required?: Required; references?: string } = {},
): Field<Name, 'string', Required extends true ? false : true> => ({
  name,
  type: 'string',
  nullable: !options.required as Required extends true ? false : true,
  required: options.required ?? false,
  ...(options.required ? { minLength: 1 } : {}),
  ...(maxLength !== undefined ? { maxLength } : {}),
  ...(options.references ? { references: options.references } : {}),
});

/** A boolean: required and non-null, unless it has a default (then optional and stored as the default). */
export const flag = <const Name extends string>(name: Name, options: { default?: boolean } = {}): Field<Name, 'boolean', boolean> =>
  options.default === undefined
    ? { name, type: 'boolean', nullable: false, required: true }
    : { name, type: 'boolean', nullable: true, required: false, defaultValue: options.default };

export const int32 = <const Name extends string>(name: Name): Field<Name, 'int32', true> => ({ name, type: 'int32', nullable: true, required: false });
export const double = <const Name extends string>(name: Name): Field<Name, 'double', true> => ({ name, type: 'double', nullable: true, required: false });
export const date = <const Name extends string>(name: Name): Field<Name, 'date-time', true> => ({ name, type: 'date-time', nullable: true, required: false });

/** The four audit fields every record carries; where they sit in a record is up to its description. */
export const audit = {
  entryDate: { name: 'entry_Date', type: 'date-time', nullable: false, required: false, audit: 'entryDate' },
  entryUser: { name: 'entry_User', type: 'string', nullable: true, required: false, maxLength: 20, audit: 'entryUser' },
  updateDate: { name: 'update_Date', type: 'date-time', nullable: false, required: false, audit: 'updateDate' },
  updateUser: { name: 'update_User', type: 'string', nullable: true, required: false, maxLength: 20, audit: 'updateUser' },
} as const satisfies Record<AuditRole, Field>;

/** The TypeScript value of a field as the API returns it: dates are ISO 8601 text. */
type ValueOf<F extends Field> =
  | (F['type'] extends 'boolean' ? boolean : F['type'] extends 'int32' | 'double' ? number : string)
  | (F['nullable'] extends false ? never : null);

/** A record as the API returns it, computed from its field list: `RecordOf<typeof group.fields>`. */
export type RecordOf<Fields extends readonly Field[]> = { [F in Fields[number] as F['name']]: ValueOf<F> };
