import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';

/**
 * The response shapes every operation shares, written once as TypeBox schemas: the OpenAPI
 * components are these schemas (see derive/openapi.ts), and the TypeScript types handlers build
 * are their `Static` types. Names are the vendor's component names.
 */

/** A reference to a component, typed as what it refers to. */
export const ref = <T extends TSchema>(name: string, _schema?: T): TUnsafe<Static<T>> =>
  Type.Unsafe<Static<T>>({ $ref: `#/components/schemas/${name}` });
/** The vendor's spelling of "this, or null". */
export const orNull = <T extends TSchema>(schema: T): TUnsafe<Static<T> | null> => Type.Unsafe<Static<T> | null>({ oneOf: [schema, { type: 'null' }] });
const textOrNull = (options: { description?: string } = {}) => Type.Unsafe<string | null>({ type: ['string', 'null'], ...options });
const closed = { additionalProperties: false } as const;

export const FieldError = Type.Object({ field: Type.String(), message: Type.String() }, closed);
/** One invalid field: `{field: 'benefit_Code', message: 'must be 1-10 characters'}`. */
export type FieldError = Static<typeof FieldError>;

export const Debug = Type.Object({ activityID: Type.String({ format: 'uuid' }) }, closed);

export const VBAProblemDetails = Type.Object(
  {
    type: textOrNull(),
    title: textOrNull(),
    status: Type.Integer({ format: 'int32' }),
    detail: textOrNull(),
    instance: textOrNull(),
    errors: Type.Optional(Type.Array(ref('FieldError', FieldError))),
  },
  { description: 'RFC 9457 problem details; `errors` names each invalid field.', ...closed },
);
/** RFC 9457 problem details, plus `errors` naming each invalid field. */
export type ProblemDetails = Static<typeof VBAProblemDetails>;

/** Every JSON response: `{data, error, debug: {activityID}}`; exactly one of data and error is non-null. */
export const envelopeOf = <T extends TSchema>(data: T) =>
  Type.Object({ data, error: orNull(ref('VBAProblemDetails', VBAProblemDetails)), debug: ref('Debug', Debug) }, closed);
export type Envelope<T> = Static<ReturnType<typeof envelopeOf<TUnsafe<T | null>>>>;

export const KeyValuePair = Type.Object(
  {
    key: textOrNull(),
    value: Type.Unknown({ description: 'The key value, as a string; null when the record had no usable key' }),
  },
  closed,
);

export const MultiCodeResponse = Type.Object(
  {
    id: Object.assign(Type.Array(ref('KeyValuePair', KeyValuePair)), { description: 'The key of the record this entry is about' }),
    status: Type.Integer({ format: 'int32', description: 'HTTP status of the operation: 201, 200, 400, 422, 424 (allOrNone: not applied) or 500' }),
    body: Type.String({ description: 'Created, Updated, or what was wrong' }),
  },
  closed,
);
/** One record's outcome in a batch's 207. */
export type MultiCodeResponse = Static<typeof MultiCodeResponse>;

export const AuthenticationResult = Type.Object(
  {
    accessToken: Type.String(),
    idToken: Type.String({ description: 'The bearer token for every other call' }),
    refreshToken: Type.String(),
    expiresIn: Type.Integer({ format: 'int32', description: 'Seconds the tokens stay valid' }),
  },
  closed,
);
export type AuthenticationResult = Static<typeof AuthenticationResult>;

/** Tokens, or a challenge (`challengeName` and its single-use `session`) instead. */
const loginAnswer = () =>
  Type.Object(
    { challengeName: textOrNull(), session: textOrNull(), authenticationResult: orNull(ref('AuthenticationResult', AuthenticationResult)) },
    closed,
  );
export const UserAuthenticationResponse = loginAnswer();
export const UserChangeTempPasswordResponse = loginAnswer();
export type UserAuthenticationResponse = Static<typeof UserAuthenticationResponse>;

export const HealthStatus = Type.Object({ status: Type.String() }, closed);

/**
 * A TypeBox schema as the document prints it: `type` first, then `properties`, `required` and
 * `additionalProperties` last, the order the vendor's documents (and this server's before TypeBox) use, so the served document
 * keeps its bytes. JSON.stringify drops TypeBox's symbol keys.
 */
export function documented(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(documented);
  if (typeof schema !== 'object' || schema === null) return schema;
  const entries = Object.entries(schema).map(([key, value]) => [key, key === 'properties' ? mapValues(value, documented) : documented(value)] as const);
  const rank = (key: string) => ({ type: 0, properties: 2, required: 3, additionalProperties: 4 })[key] ?? 1;
  return Object.fromEntries(entries.sort(([a], [b]) => rank(a) - rank(b)));
}

const mapValues = (object: object, map: (value: unknown) => unknown) =>
  Object.fromEntries(Object.entries(object).map(([key, value]) => [key, map(value)]));
