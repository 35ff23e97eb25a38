import type { Entity, Field } from '../entities/index.js';

/** The JSON Schema subset the record schemas use (valid JSON Schema 2020-12 and OpenAPI 3.1). */
export interface JsonSchema {
  $ref?: string;
  oneOf?: JsonSchema[];
  examples?: unknown[];
  type?: string | string[];
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean;
  description?: string;
}

export const INT32 = { minimum: -2_147_483_648, maximum: 2_147_483_647 } as const;

const JSON_TYPE = {
  string: { type: 'string' },
  boolean: { type: 'boolean' },
  int32: { type: 'integer', format: 'int32', ...INT32 },
  double: { type: 'number', format: 'double' },
  'date-time': { type: 'string', format: 'date-time' },
} as const satisfies Record<Field['type'], JsonSchema>;

export function fieldSchema(field: Field): JsonSchema {
  const { type, ...rest } = JSON_TYPE[field.type];
  return {
    type: field.nullable ? [type, 'null'] : type,
    ...rest,
    ...(field.minLength !== undefined ? { minLength: field.minLength } : {}),
    ...(field.maxLength !== undefined ? { maxLength: field.maxLength } : {}),
  };
}

/**
 * What a client may send: the client-owned fields. Audit fields are server-owned and ignored on
 * input (generated clients send them back), and so is any unknown field, so neither is listed.
 */
export function inputSchema(entity: Entity, uncappedTextMax?: number): JsonSchema {
  // Text without a maximum of its own gets the app's cap when one is given (validation, not the document).
  const capped = (field: Field): JsonSchema =>
    uncappedTextMax !== undefined && field.type === 'string' && field.maxLength === undefined ? { ...fieldSchema(field), maxLength: uncappedTextMax } : fieldSchema(field);
  return {
    type: 'object',
    properties: Object.fromEntries(entity.clientFields.map((field) => [field.name, capped(field)])),
    required: entity.clientFields.filter((field) => field.required).map((field) => field.name),
  };
}

// Request bodies that are not records (the identity routes'), written with the same three pieces.

/** A string property with its description. */
export const text = (description: string): JsonSchema => ({ type: 'string', description });

/** An object of exactly these properties (others are refused), `required` among them. */
export const closedObject = (properties: Record<string, JsonSchema>, required: string[]): JsonSchema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});

/** The caller's access token that generated clients send in some bodies: optional, and when given it must be the caller's. */
export const OWN_ACCESS_TOKEN: JsonSchema = { type: ['string', 'null'], description: 'Your access token (optional; when given it must be yours)' };
