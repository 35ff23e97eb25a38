import type { Entity, Field } from '../entities/index.js';
import { entities } from '../entities/index.js';
import { SERVER_OWNED_USER_FIELDS, user } from '../entities/user.js';
import { Type } from '@sinclair/typebox';
import { operationPaths, ref, type OperationSpec } from '../http/operation.js';
import { pluralName } from '../resources/operations.js';
import { closedObject, fieldSchema, OWN_ACCESS_TOKEN, text, type JsonSchema } from './json-schema.js';
import { MFA_TAG, mfaSchemas } from './openapi-mfa.js';
import {
  AuthenticationResult,
  Debug,
  documented,
  envelopeOf,
  FieldError,
  HealthStatus,
  KeyValuePair,
  MultiCodeResponse,
  orNull,
  UserAuthenticationResponse,
  UserChangeTempPasswordResponse,
  VBAProblemDetails,
} from './shapes.js';
import { HEADER, documentedName } from '../http/headers.js';
import { VENDOR_PREFIX } from '../http/vendor-prefix.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE } from '../resources/list-query.js';

/**
 * The OpenAPI 3.1 document of this server, computed from the record descriptions and the operation
 * table (the same list the routes are mounted from): the same field schemas the request validator
 * compiles, never a hand-written copy.
 * Names follow the vendor's (`GroupsVBAResponse`, `MultiCodeResponseListVBAResponse`,
 * `VBAProblemDetails`, …) so generated clients read the same.
 */
export function openApiDocument(version: string, operations: readonly OperationSpec[]): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'VBAPI: Benefits, Benefit Categories and Groups',
      version,
      description: [
        'A self-hostable server for the VBASoftware VBAPI contract.',
        '',
        '**How to call this API**',
        '',
        '1. **Log in**: `POST /user-authentication` with your API key (`x-api-key`), `Authorization: Basic` (username:password), ' +
          'and the headers `vbasoftware-client-id`, `vbasoftware-client-code`, `vbasoftware-database`. ' +
          'On this page: **Authorize** with the API key and the username/password, then run the login under **Authentication**: ' +
          'the returned token is used from then on, and the client and database you entered are remembered.',
        '2. **Call**: every other operation needs the same `x-api-key`, `Authorization: Bearer <idToken>` (from the login), ' +
          '`vbasoftware-database`, and a `User-Agent` (curl and browsers send one).',
        '3. **Read the answer**: every response is the envelope `{data, error, debug: {activityID}}`; ' +
          'batches (`PUT /…-batch`) answer 207 with one entry per record. Unknown record fields are ignored.',
      ].join('\n'),
    },
    servers: [
      { url: '/', description: 'This server' },
      { url: VENDOR_PREFIX, description: "This server, under the vendor's base path" },
    ],
    security: [{ apiKeyAuth: [], bearerAuth: [] }],
    // Authentication first: it is the first thing a reader of /docs has to do.
    tags: [
      { name: 'Authentication', description: 'Log in for a bearer token (on this page, the token is then used automatically); challenges, refresh, logout' },
      ...entities.map((entity) => ({ name: pluralName(entity), description: `${capitalise(entity.label)} records (\`${entity.schemaName}\`)` })),
      { name: 'User', description: 'The client\'s users (`Users`): administrators only, except changing one\'s own password' },
      MFA_TAG,
      { name: 'Health', description: 'Liveness (the process) and readiness (the stores)' },
    ],
    paths: operationPaths(operations),
    components: {
      securitySchemes: {
        apiKeyAuth: { type: 'apiKey', in: 'header', name: HEADER.apiKey },
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        basicAuth: { type: 'http', scheme: 'basic' },
      },
      parameters: {
        database: { name: HEADER.database, in: 'header', required: true, description: 'Target database', schema: { type: 'string' } },
        clientId: { name: HEADER.clientId, in: 'header', required: true, schema: { type: 'string' } },
        clientCode: { name: HEADER.clientCode, in: 'header', required: true, schema: { type: 'string' } },
        expiredIdToken: {
          name: HEADER.expiredIdToken,
          in: 'header',
          required: true,
          description: 'The id token of the session being refreshed (it may have expired)',
          schema: { type: 'string' },
        },
        refreshToken: {
          name: HEADER.refreshToken,
          in: 'header',
          required: true,
          description: 'The refresh token from the last login or refresh; it works once',
          schema: { type: 'string' },
        },
        page: { name: 'page', in: 'query', description: 'Page number, from 1', schema: { type: 'integer', format: 'int32', minimum: 1, maximum: MAX_PAGE, default: 1 } },
        pageSize: {
          name: 'pageSize',
          in: 'query',
          description: 'Records per page',
          schema: { type: 'integer', format: 'int32', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
        },
        sortBy: {
          name: 'sortBy',
          in: 'query',
          description: 'Comma-separated field names (case-insensitive), each optionally `:asc` or `:desc`; the key is always the final tie-breaker.',
          schema: { type: 'string' },
          example: 'name:desc,group_ID',
        },
        idempotencyKey: {
          name: documentedName(HEADER.idempotencyKey),
          in: 'header',
          description:
            'Makes a retry safe (IETF draft "The Idempotency-Key HTTP Header Field"). The first request with a key is processed and its answer ' +
            'stored in the same transaction as its writes; a repeat with the same body replays that answer byte for byte with ' +
            '`Idempotent-Replayed: true`; the same key with another body, endpoint, `allOrNone` or `Prefer` is a 422; while the first is ' +
            'still being processed, 409. Keys belong to the database and the API key\'s client, and are kept for ' +
            '`VBAPI_IDEMPOTENCY_TTL_SECONDS` (24 h by default). Bodies are compared as parsed JSON (whitespace does not matter, key order does). ' +
            'Ignored (nothing is stored) with `validateOnly=true`.',
          schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x20-\\x7e]+$' },
        },
        validateOnly: {
          name: 'validateOnly',
          in: 'query',
          description: 'Run everything (validation, references, created-vs-updated) and roll back: the 207 says what would happen; nothing is stored.',
          schema: { type: 'boolean', default: false },
        },
        allOrNone: {
          name: 'allOrNone',
          in: 'query',
          description:
            'Apply nothing unless every record would be 200/201. Records that would have succeeded then answer 424 ' +
            '`Not applied: another record of this request failed`; the failing ones keep their own status.',
          schema: { type: 'boolean', default: false },
        },
        prefer: {
          name: documentedName(HEADER.prefer),
          in: 'header',
          description:
            'RFC 7240. `handling=strict`: a record carrying a field its type does not have is a 400 naming it (`grp_name: unknown field`), ' +
            'answered with `Preference-Applied: handling=strict`. The default is lenient: unknown fields are ignored.',
          schema: { type: 'string' },
          example: 'handling=strict',
        },
      },
      headers: {
        [HEADER.pagination]: {
          description: 'Paging totals as compact JSON, e.g. `{"TotalCount":250,"TotalPages":3,"CurrentPage":1,"PageSize":100}`',
          schema: { type: 'string' },
        },
        [HEADER.activityId]: { description: 'The activityID of the response', schema: { type: 'string', format: 'uuid' } },
        [documentedName(HEADER.retryAfter)]: { description: 'Seconds until a retry may succeed (the rate limit lets a request through, or a database connection comes free)', schema: { type: 'integer' } },
        [HEADER.batchSummary]: {
          description:
            'Counts of the answer by outcome: `created=…; updated=…; invalid=…; unresolved=…; failed=…` (201, 200, 400, 422, and 424/500). ' +
            'With `validateOnly=true` the counts are what would happen.',
          schema: { type: 'string' },
          example: 'created=2; updated=1; invalid=0; unresolved=0; failed=0',
        },
        [documentedName(HEADER.idempotentReplayed)]: { description: '`true` when this answer is the stored answer of an earlier request with the same Idempotency-Key', schema: { type: 'string', enum: ['true'] } },
        [documentedName(HEADER.preferenceApplied)]: { description: 'RFC 7240: `handling=strict` when the request asked for it', schema: { type: 'string' } },
      },
      schemas: schemas(),
    },
  };
}

const capitalise = (text: string) => text.replace(/(^|\s)\S/g, (letter) => letter.toUpperCase());
const nullable = (schema: JsonSchema) => orNull(Type.Unsafe(schema));

const envelope = (data: JsonSchema) => documented(envelopeOf(Type.Unsafe(data)));

const AUDIT_DESCRIPTION: Record<string, string> = {
  entryDate: 'Set by the server when the record is created; values sent are ignored.',
  entryUser: 'The user who created the record, set by the server; values sent are ignored.',
  updateDate: 'Set by the server on every write; values sent are ignored.',
  updateUser: 'The user who last wrote the record, set by the server; values sent are ignored.',
};

// Not `default`: generators such as openapi-typescript then make the field required in requests.
const describe = (field: Field) =>
  field.audit ? { description: AUDIT_DESCRIPTION[field.audit] }
  : field.defaultValue !== undefined ? { description: `Stored as ${field.defaultValue} when omitted or null.` }
  : {};

/**
 * The record as the vendor models it: its required fields are what a client must send. One schema
 * serves requests and responses, so it does not forbid other properties: the server ignores unknown
 * fields in requests (as the vendor does), and saying `additionalProperties: false` would tell
 * generated clients and readers the opposite.
 */
function recordComponent(entity: Entity, descriptionOf: (field: Field) => string | undefined = () => undefined): JsonSchema {
  return {
    type: 'object',
    description:
      `${capitalise(entity.label)}; key \`${entity.key.name}\` (no leading or trailing spaces). ` +
      'In requests, fields not listed here (including other spellings of listed ones) are ignored, not refused. ' +
      'Every response carries every listed field, and no other.',
    properties: Object.fromEntries(
      entity.fields.map((field) => {
        const own = descriptionOf(field);
        return [field.name, { ...fieldSchema(field), ...describe(field), ...(own ? { description: own } : {}) }];
      }),
    ),
    required: entity.fields.filter((field) => field.required).map((field) => field.name),
    examples: [example(entity)],
  };
}

function example(entity: Entity): Record<string, unknown> {
  const value = (field: Field): unknown => {
    if (field.isKey) return 'EXAMPLE'.slice(0, field.maxLength);
    if (field.references) return null;
    switch (field.type) {
      case 'boolean':
        return false;
      case 'int32':
        return field.nullable ? null : 0;
      case 'double':
        return null;
      case 'date-time':
        return field.nullable ? null : '2024-01-02T03:04:05.000Z';
      case 'string':
        return field.required ? 'N'.repeat(field.minLength ?? 1) : null;
    }
  };
  return Object.fromEntries(entity.fields.map((field) => [field.name, value(field)]));
}

function schemas(): Record<string, unknown> {
  const all: Record<string, unknown> = {};
  for (const entity of entities) {
    all[entity.schemaName] = recordComponent(entity);
    all[`${entity.schemaName}VBAResponse`] = envelope(nullable(ref(entity.schemaName)));
    all[`${entity.schemaName}ListVBAResponse`] = envelope(nullable({ type: 'array', items: ref(entity.schemaName) }));
  }
  Object.assign(all, identitySchemas(), mfaSchemas({ ref, envelope, nullable }));
  Object.assign(all, {
    Debug: documented(Debug),
    FieldError: documented(FieldError),
    VBAProblemDetails: documented(VBAProblemDetails),
    KeyValuePair: documented(KeyValuePair),
    MultiCodeResponse: documented(MultiCodeResponse),
    MultiCodeResponseListVBAResponse: envelope(nullable({ type: 'array', items: ref('MultiCodeResponse') })),
    AuthenticationResult: documented(AuthenticationResult),
    UserAuthenticationResponse: documented(UserAuthenticationResponse),
    UserAuthenticationResponseVBAResponse: envelope(nullable(ref('UserAuthenticationResponse'))),
    HealthStatus: documented(HealthStatus),
    HealthStatusVBAResponse: envelope(nullable(ref('HealthStatus'))),
  });
  return all;
}

// Issue 13: users (6.2) and sessions (6.3), under the vendor's names.

function identitySchemas(): Record<string, unknown> {
  const users = recordComponent(user, (field) =>
    SERVER_OWNED_USER_FIELDS.has(field.name) ? 'Set by the server; values sent are ignored (required ones must still be sent, any value).'
    : field.name === 'password' ? 'Write-only: always null in responses. A password sent here is temporary: it must be replaced at the next login.'
    : undefined,
  );
  const object = closedObject;
  return {
    Users: users,
    UsersVBAResponse: envelope(nullable(ref('Users'))),
    UsersListVBAResponse: envelope(nullable({ type: 'array', items: ref('Users') })),
    StringVBAResponse: envelope({ type: ['string', 'null'] }),
    UserChangeTempPasswordRequest: object(
      {
        userID: text('The user answering the challenge'),
        newPassword: text('At least 12 characters, not the user ID'),
        session: text('The `session` of the NEW_PASSWORD_REQUIRED challenge'),
      },
      ['userID', 'newPassword', 'session'],
    ),
    UserChangeTempPasswordResponse: documented(UserChangeTempPasswordResponse),
    UserChangeTempPasswordResponseVBAResponse: envelope(nullable(ref('UserChangeTempPasswordResponse'))),
    UserResetPasswordRequest: object(
      { accessToken: OWN_ACCESS_TOKEN, previousPassword: text('Your current password'), proposedPassword: text('At least 12 characters, not your user ID') },
      ['previousPassword', 'proposedPassword'],
    ),
  };
}
