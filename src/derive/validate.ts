import { Ajv, type ErrorObject } from 'ajv';
import type { ClientRecord, Entity, Field } from '../entities/index.js';
import { parseDateTime } from './dates.js';
import { INT32, inputSchema } from './json-schema.js';
import type { FieldError } from './shapes.js';

/**
 * A valid record as the store takes it: the client's own object, normalised in place (dates as
 * UTC ISO strings, defaults applied; absent = null). It may still carry fields the store never
 * reads (audit, unknown): only the client fields are ever written, see `rowsJson` and `copyText`.
 */
export type Row = Record<string, string | number | boolean | null>;

/**
 * Valid rows that hold nothing but their record type's client fields (the validator marks them):
 * they can be written as they are. A row that also carries audit or unknown fields must be
 * filtered, or the statement would parse those too (a forged `entry_Date` that is not a date would
 * fail the whole statement).
 */
const onlyClientFields = new WeakMap<object, Entity>();

/** Rows as the JSON the upsert statements take: only the entity's client fields, whatever else the objects hold. */
export function rowsJson(entity: Entity, rows: Row | readonly Row[]): string {
  const clean = Array.isArray(rows) ? rows.every((row) => onlyClientFields.get(row) === entity) : onlyClientFields.get(rows as Row) === entity;
  // Filtering by a list of names takes JSON.stringify off its fast path: 3× slower for groups.
  // (It only reads the list; its signature just does not say readonly.)
  return clean ? JSON.stringify(rows) : JSON.stringify(rows, entity.clientFieldNames as string[]);
}

export type { FieldError } from './shapes.js';

/** A validation's verdict; a valid row is typed by its record's field list when the entity's type is known. */
export type Validation<Typed = unknown> = { readonly ok: true; readonly row: Row & Typed } | { readonly ok: false; readonly errors: FieldError[] };

/**
 * The validation policy, set on purpose: no type coercion ("5" is not an integer), no defaults
 * or removals by Ajv (normalisation below does that from the field list), every error reported.
 */
const ajv = new Ajv({
  allErrors: true,
  coerceTypes: false,
  useDefaults: false,
  removeAdditional: false,
  allowUnionTypes: true,
  // Formats are checked by `normalise` (dates need the contract's own forms), not by Ajv.
  formats: { 'date-time': true, int32: true, double: true },
});

/**
 * Text fields the vendor gives no maximum (`notes`) still get one: unbounded text would let one
 * record make every list of its tenant unanswerable. Configurable (VBAPI_MAX_TEXT_CHARS).
 */
export const DEFAULT_MAX_TEXT_CHARS = 65_535;

export interface TextLimits {
  /** The cap of text fields without a maximum of their own, in characters. */
  readonly maxTextChars: number;
}

const isUncappedText = (field: Field) => field.type === 'string' && field.maxLength === undefined;

/**
 * The validator of one record type: Ajv for shape, then one pass for dates and text. Each call
 * compiles anew: an app builds its validators once at start-up, from its configured cap, and
 * passes them where they are used (see resources/compiled.ts).
 */
export function recordValidator<E extends Entity>(
  entity: E,
  limits: TextLimits = { maxTextChars: DEFAULT_MAX_TEXT_CHARS },
): (input: unknown) => Validation<ClientRecord<E>> {
  // What compileValidator checked is exactly the entity's client fields, so its rows are ClientRecord<E>.
  return compileValidator(entity, limits.maxTextChars) as (input: unknown) => Validation<ClientRecord<E>>;
}

function compileValidator(entity: Entity, maxTextChars: number): (input: unknown) => Validation {
  const schema = inputSchema(entity, maxTextChars);
  const check = ajv.compile(schema);
  // The compiled function stands alone; Ajv's own cache (keyed by schema object) would only grow with every app built.
  ajv.removeSchema(schema);
  const maxLengthOf = (field: Field) => field.maxLength ?? (isUncappedText(field) ? maxTextChars : undefined);
  const fieldByName = new Map(entity.fields.map((field) => [field.name, field]));
  return (input) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return { ok: false, errors: [{ field: 'record', message: 'must be a JSON object' }] };
    }
    const failed = new Set<string>();
    // Fields whose JSON type Ajv refused: their message names the type, as Ajv decided it.
    const wrongType = new Set<string>();
    if (!check(input)) {
      for (const error of check.errors ?? []) {
        failed.add(fieldOf(error));
        if (error.keyword === 'type') wrongType.add(fieldOf(error));
      }
    }
    const record = input as Record<string, unknown>;
    let present = 0;
    for (const field of entity.clientFields) {
      if (failed.has(field.name)) continue;
      const original = record[field.name];
      const value = normalise(field, original);
      if (value === INVALID || (field.isKey && hasOuterSpace(value))) failed.add(field.name);
      // In place, and only where a value changes (a date's form, a default): a copy of 10,000
      // records would cost more memory than the request body itself.
      else if (value !== original && !(value === null && original === undefined)) record[field.name] = value;
      if (record[field.name] !== undefined) present++;
    }
    if (failed.size === 0) {
      if (Object.keys(record).length === present) onlyClientFields.set(record, entity);
      return { ok: true, row: record as Row };
    }
    const errors = entity.clientFields
      .filter((field) => failed.has(field.name))
      .map((field) => ({ field: field.name, message: messageFor(field, record[field.name], wrongType.has(field.name), maxLengthOf(field)) }));
    for (const name of failed) if (!fieldByName.has(name)) errors.push({ field: name, message: 'is invalid' });
    return { ok: false, errors };
  };
}

function fieldOf(error: ErrorObject): string {
  if (error.keyword === 'required') return String((error.params as { missingProperty: string }).missingProperty);
  // instancePath is `/field_Name`; field names contain neither `/` nor `~`, so no unescaping is needed.
  return error.instancePath.slice(1).split('/')[0] ?? '';
}

const INVALID = Symbol('invalid');

/**
 * PostgreSQL text cannot hold NUL, and an unpaired surrogate has no UTF-8 form. Text that fails
 * this must be refused before it reaches SQL, or it fails the whole statement (a batch's included).
 */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && text.isWellFormed();
}

/**
 * A key with leading or trailing spaces could be stored, but then not be fetched by the name a
 * person sees and would sort first: it is refused (the project's decision, issue 16).
 */
function hasOuterSpace(value: unknown): boolean {
  return typeof value === 'string' && value !== value.trim();
}

/** Whether a key from a path could be stored at all; one that could not is simply not found. */
export function couldBeKey(entity: Entity, key: string): boolean {
  const length = [...key].length; // characters, as the field's lengths count them
  return length >= (entity.key.minLength ?? 1) && length <= (entity.key.maxLength ?? Infinity) && isStorableText(key);
}

/** Field errors as one line: `benefit_Code: must be 1-10 characters; medicare: is required`. */
export function describeErrors(errors: readonly FieldError[]): string {
  return errors.map((error) => `${error.field}: ${error.message}`).join('; ');
}

function normalise(field: Field, value: unknown): Row[string] | typeof INVALID {
  if (value === undefined || value === null) return field.defaultValue ?? null;
  if (typeof value !== 'string') return value as Row[string];
  if (field.type === 'date-time') return parseDateTime(value) ?? INVALID;
  return isStorableText(value) ? value : INVALID;
}

const TYPE_NAME: Record<Field['type'], string> = {
  string: 'a string',
  boolean: 'a boolean (true or false)',
  int32: 'an integer',
  double: 'a number',
  'date-time': 'a date-time string',
};

/**
 * The message for a field that failed, phrased from its description rather than Ajv's wording.
 * Whether the JSON type was wrong is Ajv's verdict (`wrongType`), not decided again here.
 */
export function messageFor(field: Field, value: unknown, wrongType: boolean, maxLength = field.maxLength): string {
  if (value === undefined) return 'is required';
  if (value === null) return 'must not be null';
  if (wrongType) return `must be ${TYPE_NAME[field.type]}${field.nullable ? ' or null' : ''}`;
  if (field.type === 'int32') return `must be a 32-bit integer (${INT32.minimum} to ${INT32.maximum})`;
  if (field.type === 'date-time') return 'must be an ISO 8601 date-time, e.g. 2024-01-02T03:04:05Z or 2024-01-02';
  const text = value as string;
  if (text.includes('\u0000')) return 'must not contain the NUL character';
  if (!text.isWellFormed()) return 'must not contain unpaired UTF-16 surrogates';
  if (field.isKey && hasOuterSpace(text)) return 'must not start or end with a space';
  return lengthMessage(field.minLength, maxLength);
}

/** `must be 1-10 characters`, `must be exactly 1 character`, `must be at most 20 characters`. */
export function lengthMessage(min: number | undefined, max: number | undefined): string {
  const characters = (count: number) => `${count} character${count === 1 ? '' : 's'}`;
  if (max === undefined) return `must be at least ${characters(min ?? 0)}`;
  if (!min) return `must be at most ${characters(max)}`;
  if (min === max) return `must be exactly ${characters(max)}`;
  return `must be ${min}-${max} characters`;
}
