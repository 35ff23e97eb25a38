import { STATUS_CODES } from 'node:http';
import type { Entity, Field } from '../entities/index.js';
import { entities } from '../entities/index.js';
import { SERVER_OWNED_USER_FIELDS, user } from '../entities/user.js';
import { fieldSchema, type JsonSchema } from './json-schema.js';
import { MFA_TAG, mfaPaths, mfaSchemas } from './openapi-mfa.js';

/**
 * The OpenAPI 3.1 document of this server, computed from the record descriptions and the list of
 * routes below: the same field schemas the request validator compiles, never a hand-written copy.
 * Names follow the vendor's (`GroupsVBAResponse`, `MultiCodeResponseListVBAResponse`,
 * `VBAProblemDetails`, …) so generated clients read the same.
 */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {
    '/user-authentication': { post: loginOperation() },
    '/healthz': {
      get: {
        operationId: 'GetHealth',
        tags: ['Health'],
        summary: 'Is the process alive?',
        security: [],
        responses: { 200: response(200, 'HealthStatusVBAResponse') },
      },
    },
    '/readyz': {
      get: {
        operationId: 'GetReadiness',
        tags: ['Health'],
        summary: 'Are the stores reachable?',
        security: [],
        responses: { 200: response(200, 'HealthStatusVBAResponse'), 503: response(503, 'HealthStatusVBAResponse') },
      },
    },
  };
  for (const entity of entities) Object.assign(paths, entityPaths(entity));
  Object.assign(paths, identityPaths(), mfaPaths(kit()));

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
      { url: '/vbasoftware', description: "This server, under the vendor's base path" },
    ],
    security: [{ apiKeyAuth: [], bearerAuth: [] }],
    // Authentication first: it is the first thing a reader of /docs has to do.
    tags: [
      { name: 'Authentication', description: 'Log in for a bearer token (on this page, the token is then used automatically); challenges, refresh, logout' },
      ...entities.map((entity) => ({ name: plural(entity), description: `${capitalise(entity.label)} records (\`${entity.schemaName}\`)` })),
      { name: 'User', description: 'The client\'s users (`Users`): administrators only, except changing one\'s own password' },
      MFA_TAG,
      { name: 'Health', description: 'Liveness (the process) and readiness (the stores)' },
    ],
    paths,
    components: {
      securitySchemes: {
        apiKeyAuth: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        basicAuth: { type: 'http', scheme: 'basic' },
      },
      parameters: {
        database: { name: 'vbasoftware-database', in: 'header', required: true, description: 'Target database', schema: { type: 'string' } },
        clientId: { name: 'vbasoftware-client-id', in: 'header', required: true, schema: { type: 'string' } },
        clientCode: { name: 'vbasoftware-client-code', in: 'header', required: true, schema: { type: 'string' } },
        expiredIdToken: {
          name: 'expired-id-token',
          in: 'header',
          required: true,
          description: 'The id token of the session being refreshed (it may have expired)',
          schema: { type: 'string' },
        },
        refreshToken: {
          name: 'refresh-token',
          in: 'header',
          required: true,
          description: 'The refresh token from the last login or refresh; it works once',
          schema: { type: 'string' },
        },
        page: { name: 'page', in: 'query', description: 'Page number, from 1', schema: { type: 'integer', format: 'int32', minimum: 1, default: 1 } },
        pageSize: { name: 'pageSize', in: 'query', description: 'Records per page', schema: { type: 'integer', format: 'int32', minimum: 1, maximum: 1000, default: 100 } },
        sortBy: {
          name: 'sortBy',
          in: 'query',
          description: 'Comma-separated field names (case-insensitive), each optionally `:asc` or `:desc`; the key is always the final tie-breaker.',
          schema: { type: 'string' },
          example: 'name:desc,group_ID',
        },
        idempotencyKey: {
          name: 'Idempotency-Key',
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
          name: 'Prefer',
          in: 'header',
          description:
            'RFC 7240. `handling=strict`: a record carrying a field its type does not have is a 400 naming it (`grp_name: unknown field`), ' +
            'answered with `Preference-Applied: handling=strict`. The default is lenient: unknown fields are ignored.',
          schema: { type: 'string' },
          example: 'handling=strict',
        },
      },
      headers: {
        'x-pagination': {
          description: 'Paging totals as compact JSON, e.g. `{"TotalCount":250,"TotalPages":3,"CurrentPage":1,"PageSize":100}`',
          schema: { type: 'string' },
        },
        'x-activity-id': { description: 'The activityID of the response', schema: { type: 'string', format: 'uuid' } },
        'Retry-After': { description: 'Seconds until a retry may succeed (the rate limit lets a request through, or a database connection comes free)', schema: { type: 'integer' } },
        'x-batch-summary': {
          description:
            'Counts of the answer by outcome: `created=…; updated=…; invalid=…; unresolved=…; failed=…` (201, 200, 400, 422, and 424/500). ' +
            'With `validateOnly=true` the counts are what would happen.',
          schema: { type: 'string' },
          example: 'created=2; updated=1; invalid=0; unresolved=0; failed=0',
        },
        'Idempotent-Replayed': { description: '`true` when this answer is the stored answer of an earlier request with the same Idempotency-Key', schema: { type: 'string', enum: ['true'] } },
        'Preference-Applied': { description: 'RFC 7240: `handling=strict` when the request asked for it', schema: { type: 'string' } },
      },
      schemas: schemas(),
    },
  };
}

const capitalise = (text: string) => text.replace(/(^|\s)\S/g, (letter) => letter.toUpperCase());
/** `benefit category` → `BenefitCategory`; `benefit-categories` → `BenefitCategories`. */
const singular = (entity: Entity) => capitalise(entity.label).replace(/\s/g, '');
const plural = (entity: Entity) => capitalise(entity.path.replace(/-/g, ' ')).replace(/\s/g, '');

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const parameter = (name: string) => ({ $ref: `#/components/parameters/${name}` });
const nullable = (schema: JsonSchema): JsonSchema => ({ oneOf: [schema, { type: 'null' }] });

/** Why each status can happen; the body is always the route's envelope, with `error` set for failures. */
const WHY: Record<number, string> = {
  200: 'Success',
  204: 'Deleted; no body',
  207: 'One entry per record, in input order: 201 Created, 200 Updated, 400 invalid, 422 missing reference, 424 not applied (allOrNone), 500 not applied',
  400: 'Malformed request or invalid record (`error.errors` names each field)',
  401: 'Missing or invalid API key or bearer token',
  403: 'Database not allowed for this token, or no User-Agent',
  404: 'No record has this key',
  409: 'Conflict',
  413: 'Body or batch too large',
  415: 'Unsupported Content-Type (send application/json) or Content-Encoding (gzip, deflate, br or none)',
  422: 'The record refers to a record that does not exist',
  429: 'Rate limit exceeded; see Retry-After',
  500: 'Unexpected fault (details are logged under the activityID)',
  503: 'The database is unavailable, the server is shutting down, or it holds too many request bodies at once; see Retry-After',
};

function response(status: number, envelope: string | null, headers: Record<string, object> = {}) {
  return {
    description: `${STATUS_CODES[status]}: ${WHY[status]}`,
    headers: { 'x-activity-id': { $ref: '#/components/headers/x-activity-id' }, ...headers },
    ...(envelope ? { content: { 'application/json': { schema: ref(envelope) } } } : {}),
  };
}

/** The statuses every authenticated route can answer, plus the route's own. */
function responses(envelope: string, own: Record<number, ReturnType<typeof response>>, extra: number[]) {
  const all: Record<string, unknown> = { ...own };
  for (const status of [400, 401, 403, ...extra, 429, 500, 503]) {
    // 429 (rate limit) and 503 (no database connection came free in time) say when to retry.
    const retry = status === 429 || status === 503;
    all[status] = retry ? response(status, envelope, { 'Retry-After': { $ref: '#/components/headers/Retry-After' } }) : response(status, envelope);
  }
  return all;
}

const BATCH_HEADERS = {
  'x-batch-summary': { $ref: '#/components/headers/x-batch-summary' },
  'Idempotent-Replayed': { $ref: '#/components/headers/Idempotent-Replayed' },
  'Preference-Applied': { $ref: '#/components/headers/Preference-Applied' },
};

const JSON_BODY_TYPES = ['application/json', 'text/json', 'application/*+json'];
const body = (schema: object, description: string) => ({
  required: true,
  description,
  content: Object.fromEntries(JSON_BODY_TYPES.map((type) => [type, { schema }])),
});

function entityPaths(entity: Entity): Record<string, Record<string, unknown>> {
  const one = singular(entity);
  const many = plural(entity);
  const single = `${entity.schemaName}VBAResponse`;
  const tags = [many];
  const keyParameter = {
    name: entity.keyParam,
    in: 'path',
    required: true,
    description: `${entity.key.name}, URL-encoded (\`+\` and \`%20\` are both a space)`,
    schema: { type: 'string', minLength: entity.key.minLength, maxLength: entity.key.maxLength },
  };
  const referenced = entities.some((other) => other.references.some((field) => field.references === entity.name));
  const filters = Object.entries(entity.filters ?? {}).map(([name, field]) => ({
    name,
    in: 'query',
    description: `Only records whose ${field} is exactly this`,
    schema: { type: 'string' },
  }));
  const writes = entity.references.length ? [413, 415, 422] : [413, 415];

  return {
    [`/${entity.path}`]: {
      parameters: [parameter('database')],
      get: {
        operationId: `List${many}`,
        tags,
        summary: `List ${entity.label} records, a page at a time`,
        parameters: [parameter('page'), parameter('pageSize'), parameter('sortBy'), ...filters],
        responses: responses(`${entity.schemaName}ListVBAResponse`, {
          200: response(200, `${entity.schemaName}ListVBAResponse`, { 'x-pagination': { $ref: '#/components/headers/x-pagination' } }),
        }, []),
      },
      post: {
        operationId: `Create${one}`,
        tags,
        summary: `Create a ${entity.label}`,
        requestBody: body(ref(entity.schemaName), `The new ${entity.label}; audit fields are set by the server`),
        responses: responses(single, { 200: response(200, single) }, [409, ...writes]),
      },
    },
    [`/${entity.path}/{${entity.keyParam}}`]: {
      parameters: [parameter('database'), keyParameter],
      get: {
        operationId: `Get${one}`,
        tags,
        summary: `Get a ${entity.label}`,
        responses: responses(single, { 200: response(200, single) }, [404]),
      },
      put: {
        operationId: `Update${one}`,
        tags,
        summary: `Replace a ${entity.label} (omitted nullable fields become null)`,
        requestBody: body(ref(entity.schemaName), `The whole ${entity.label}; its key, when present, must be the path's`),
        responses: responses(single, { 200: response(200, single) }, [404, ...writes]),
      },
      delete: {
        operationId: `Delete${one}`,
        tags,
        summary: `Delete a ${entity.label}`,
        responses: responses(single, { 204: response(204, null) }, referenced ? [404, 409] : [404]),
      },
    },
    [`/${entity.batchPath}`]: {
      parameters: [parameter('database')],
      put: {
        operationId: `CreateOrUpdateBatch${many}`,
        tags,
        summary: `Create or update many ${entity.label} records at once`,
        description:
          'Each record is created or updated; the 207 answer says per record what happened, in input order. ' +
          'A key sent several times is applied as if sent one after another. All 200/201 records are committed in one transaction. ' +
          'Every answer carries `x-batch-summary`; see `Idempotency-Key`, `validateOnly`, `allOrNone` and `Prefer: handling=strict`.',
        requestBody: body({ type: 'array', items: ref(entity.schemaName) }, `${capitalise(entity.label)} records`),
        parameters: [parameter('idempotencyKey'), parameter('validateOnly'), parameter('allOrNone'), parameter('prefer')],
        responses: {
          ...responses('MultiCodeResponseListVBAResponse', { 207: response(207, 'MultiCodeResponseListVBAResponse', BATCH_HEADERS) }, [413, 415]),
          409: { ...response(409, 'MultiCodeResponseListVBAResponse'), description: 'Conflict: a request with this Idempotency-Key is still being processed' },
          422: { ...response(422, 'MultiCodeResponseListVBAResponse'), description: 'Unprocessable Content: this Idempotency-Key was used with a different request' },
        },
      },
    },
  };
}

function loginOperation() {
  return {
    operationId: 'UserAuthentication',
    tags: ['Authentication'],
    summary: 'Log in: Basic credentials and an API key for a bearer token',
    description: 'Use `authenticationResult.idToken` as `Authorization: Bearer <idToken>` on every other call, with the same API key and database.',
    security: [{ apiKeyAuth: [], basicAuth: [] }],
    parameters: [parameter('clientId'), parameter('clientCode'), parameter('database')],
    responses: responses('UserAuthenticationResponseVBAResponse', { 200: response(200, 'UserAuthenticationResponseVBAResponse') }, []),
  };
}

function envelope(data: JsonSchema): JsonSchema {
  return {
    type: 'object',
    properties: { data, error: nullable(ref('VBAProblemDetails')), debug: ref('Debug') },
    required: ['data', 'error', 'debug'],
    additionalProperties: false,
  };
}

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
export function recordComponent(entity: Entity): JsonSchema {
  return {
    type: 'object',
    description:
      `${capitalise(entity.label)}; key \`${entity.key.name}\` (no leading or trailing spaces). ` +
      'In requests, fields not listed here (including other spellings of listed ones) are ignored, not refused. ' +
      'Every response carries every listed field, and no other.',
    properties: Object.fromEntries(
      entity.fields.map((field) => [field.name, { ...fieldSchema(field), ...describe(field) }]),
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
  Object.assign(all, identitySchemas(), mfaSchemas(kit()));
  Object.assign(all, {
    Debug: { type: 'object', properties: { activityID: { type: 'string', format: 'uuid' } }, required: ['activityID'], additionalProperties: false },
    FieldError: {
      type: 'object',
      properties: { field: { type: 'string' }, message: { type: 'string' } },
      required: ['field', 'message'],
      additionalProperties: false,
    },
    VBAProblemDetails: {
      type: 'object',
      description: 'RFC 9457 problem details; `errors` names each invalid field.',
      properties: {
        type: { type: ['string', 'null'] },
        title: { type: ['string', 'null'] },
        status: { type: 'integer', format: 'int32' },
        detail: { type: ['string', 'null'] },
        instance: { type: ['string', 'null'] },
        errors: { type: 'array', items: ref('FieldError') },
      },
      required: ['type', 'title', 'status', 'detail', 'instance'],
      additionalProperties: false,
    },
    KeyValuePair: {
      type: 'object',
      properties: { key: { type: ['string', 'null'] }, value: { description: 'The key value, as a string; null when the record had no usable key' } },
      required: ['key', 'value'],
      additionalProperties: false,
    },
    MultiCodeResponse: {
      type: 'object',
      properties: {
        id: { type: 'array', items: ref('KeyValuePair'), description: 'The key of the record this entry is about' },
        status: { type: 'integer', format: 'int32', description: 'HTTP status of the operation: 201, 200, 400, 422, 424 (allOrNone: not applied) or 500' },
        body: { type: 'string', description: 'Created, Updated, or what was wrong' },
      },
      required: ['id', 'status', 'body'],
      additionalProperties: false,
    },
    MultiCodeResponseListVBAResponse: envelope(nullable({ type: 'array', items: ref('MultiCodeResponse') })),
    AuthenticationResult: {
      type: 'object',
      properties: {
        accessToken: { type: 'string' },
        idToken: { type: 'string', description: 'The bearer token for every other call' },
        refreshToken: { type: 'string' },
        expiresIn: { type: 'integer', format: 'int32', description: 'Seconds the tokens stay valid' },
      },
      required: ['accessToken', 'idToken', 'refreshToken', 'expiresIn'],
      additionalProperties: false,
    },
    UserAuthenticationResponse: {
      type: 'object',
      properties: {
        challengeName: { type: ['string', 'null'] },
        session: { type: ['string', 'null'] },
        authenticationResult: nullable(ref('AuthenticationResult')),
      },
      required: ['challengeName', 'session', 'authenticationResult'],
      additionalProperties: false,
    },
    UserAuthenticationResponseVBAResponse: envelope(nullable(ref('UserAuthenticationResponse'))),
    HealthStatus: { type: 'object', properties: { status: { type: 'string' } }, required: ['status'], additionalProperties: false },
    HealthStatusVBAResponse: envelope(nullable(ref('HealthStatus'))),
  });
  return all;
}

// Issue 13: users (6.2) and sessions (6.3), under the vendor's names.

const SESSION_WHY = 'Logged in; or a challenge (`challengeName` NEW_PASSWORD_REQUIRED or SOFTWARE_TOKEN_MFA with a single-use `session`, 5 minutes) instead of tokens';

/** Routes answering with a message (`StringVBAResponse`), on one user. */
function userAction(operationId: string, summary: string, extra: number[], requestBody?: object) {
  return {
    parameters: [parameter('database'), userIdParameter()],
    post: {
      operationId,
      tags: ['User'],
      summary,
      ...(requestBody ? { requestBody } : {}),
      responses: responses('StringVBAResponse', { 200: response(200, 'StringVBAResponse') }, extra),
    },
  };
}

function userIdParameter() {
  return { name: 'userID', in: 'path', required: true, description: 'user_ID', schema: { type: 'string', minLength: 1 } };
}

function keyOnly(operationId: string, summary: string, extra: object) {
  return {
    operationId,
    tags: ['Authentication'],
    summary,
    security: [{ apiKeyAuth: [] }],
    ...extra,
  };
}

/** The helpers openapi-mfa.ts describes its routes with. */
const kit = () => ({ ref, parameter, response, responses, body, envelope, nullable });

function identityPaths(): Record<string, Record<string, unknown>> {
  const paths = entityPaths(user);
  const one = paths['/users/{userID}'] as { delete: { responses: Record<string, unknown> } };
  one.delete.responses[409] = { ...response(409, 'UsersVBAResponse'), description: 'Conflict: you cannot delete yourself' };
  const loginResponse = responses('UserAuthenticationResponseVBAResponse', { 200: response(200, 'UserAuthenticationResponseVBAResponse') }, []);
  return {
    ...paths,
    '/users/{userID}/admin-disable': userAction('AdminDisableUser', 'Disable a user: no more logins, and every session of the user ends', [404]),
    '/users/{userID}/admin-enable': userAction('AdminEnableUser', 'Enable a disabled user', [404]),
    '/users/{userID}/admin-reset-password': userAction(
      'AdminResetPassword',
      'Set a new random temporary password (returned once in `data`); the user\'s sessions end',
      [404],
    ),
    '/users/{userID}/change-password': userAction(
      'ChangePassword',
      'Change your own password (no administrator needed; 403 for another user, 401 for a wrong previous password)',
      [404, 415],
      body(ref('UserResetPasswordRequest'), 'The previous and the proposed password'),
    ),
    '/change-temporary-password': {
      post: keyOnly('ChangeTemporaryPassword', 'Answer NEW_PASSWORD_REQUIRED: replace the temporary password, then get tokens or the MFA challenge', {
        parameters: [parameter('clientId'), parameter('clientCode'), parameter('database')],
        requestBody: body(ref('UserChangeTempPasswordRequest'), 'The user, the new password and the challenge\'s session'),
        responses: responses('UserChangeTempPasswordResponseVBAResponse', {
          200: { ...response(200, 'UserChangeTempPasswordResponseVBAResponse'), description: SESSION_WHY },
        }, [415]),
      }),
    },
    '/user-refresh-tokens': {
      post: keyOnly('RefreshTokens', 'New tokens and a new refresh token for a session; a refresh token works once (reuse ends the session)', {
        parameters: [parameter('clientId'), parameter('clientCode'), parameter('database'), parameter('expiredIdToken'), parameter('refreshToken')],
        responses: loginResponse,
      }),
    },
    '/logout': {
      parameters: [parameter('database')],
      post: {
        operationId: 'Logout',
        tags: ['Authentication'],
        summary: 'End this session: its id, access and refresh tokens stop working on every server instance',
        responses: responses('StringVBAResponse', { 204: response(204, null) }, []),
      },
    },
    '/kick': {
      parameters: [parameter('database')],
      post: {
        operationId: 'Kick',
        tags: ['Authentication'],
        summary: 'End your own longest-running other session (none: nothing happens)',
        responses: responses('StringVBAResponse', { 204: response(204, null) }, []),
      },
    },
  };
}

function identitySchemas(): Record<string, unknown> {
  const users = recordComponent(user);
  for (const name of SERVER_OWNED_USER_FIELDS) {
    users.properties![name]!.description = 'Set by the server; values sent are ignored (required ones must still be sent, any value).';
  }
  users.properties!.password!.description = 'Write-only: always null in responses. A password sent here is temporary: it must be replaced at the next login.';
  const text = (description: string): JsonSchema => ({ type: 'string', description });
  const object = (properties: Record<string, JsonSchema>, required: string[]): JsonSchema => ({
    type: 'object',
    properties,
    required,
    additionalProperties: false,
  });
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
    UserChangeTempPasswordResponse: {
      type: 'object',
      properties: {
        challengeName: { type: ['string', 'null'] },
        session: { type: ['string', 'null'] },
        authenticationResult: nullable(ref('AuthenticationResult')),
      },
      required: ['challengeName', 'session', 'authenticationResult'],
      additionalProperties: false,
    },
    UserChangeTempPasswordResponseVBAResponse: envelope(nullable(ref('UserChangeTempPasswordResponse'))),
    UserResetPasswordRequest: {
      type: 'object',
      properties: {
        accessToken: { type: ['string', 'null'], description: 'Your access token (optional; when given it must be yours)' },
        previousPassword: text('Your current password'),
        proposedPassword: text('At least 12 characters, not your user ID'),
      },
      required: ['previousPassword', 'proposedPassword'],
      additionalProperties: false,
    },
  };
}
