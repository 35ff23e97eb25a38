import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, onRequestAsyncHookHandler, preHandlerAsyncHookHandler, RouteHandlerMethod } from 'fastify';
import type { AuthServices } from '../auth/guard.js';
import type { MfaDevices } from '../auth/mfa-state.js';
import type { AppConfig } from './app.js';
import type { Store } from '../store/store.js';
import { ApiError } from './errors.js';
import { documentedName, HEADER } from './headers.js';

/**
 * One HTTP operation, described once: the Fastify route and the OpenAPI operation are both made
 * from it (see `mountOperations` and `operationPaths`). How to add one: src/README.md.
 */
export interface OperationSpec<Id extends string = string> {
  /** The OpenAPI operationId, also the key of the operation's handler in its group. */
  readonly operationId: Id;
  readonly method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI form: `/groups/{groupID}`; Fastify's `/groups/:groupID` is derived. */
  readonly path: string;
  /**
   * Who may call, which decides both where the route is mounted and its OpenAPI `security`:
   * `public` (no credentials), `key` and `key+basic` (checked by the handler itself: login and the
   * challenge routes), `bearer` (the authenticated, tenant-resolved scope; the document's default).
   */
  readonly access: 'public' | 'key' | 'key+basic' | 'bearer';
  readonly tags: readonly string[];
  readonly summary: string;
  readonly description?: string;
  /** OpenAPI path-item parameters, shared by every operation on this path (they must agree). */
  readonly pathParameters?: readonly object[];
  readonly parameters?: readonly object[];
  readonly requestBody?: object;
  /** Every status the operation answers, each with its OpenAPI response object. */
  readonly responses: Readonly<Record<number, ResponseObject>>;
  /** Served but not in the OpenAPI document (the document itself). */
  readonly undocumented?: true;
}

export interface ResponseObject {
  readonly description: string;
  readonly headers: Readonly<Record<string, object>>;
  readonly content?: { readonly 'application/json': { readonly schema: { readonly $ref: string } } };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The operation a route serves, and the statuses the table documents for it. */
    operationId?: string;
    statuses?: ReadonlySet<number>;
  }
}

/** What handlers are built from, once per app. */
export interface AppServices {
  readonly store: Store;
  readonly config: AppConfig;
  readonly auth: AuthServices;
  /** Users' TOTP devices (contract 6.4). */
  readonly mfa: MfaDevices;
  /** The OpenAPI document, as served. */
  readonly document: { readonly json: object; readonly yaml: string };
}

export type Handler = RouteHandlerMethod | { readonly preHandler: preHandlerAsyncHookHandler; readonly handler: RouteHandlerMethod };

/** Operations and the function that builds their handlers (once per app), one per operationId. */
export interface OperationGroup<Id extends string = string> {
  readonly operations: readonly OperationSpec<Id>[];
  readonly handlers: (services: AppServices) => Readonly<Record<Id, Handler>>;
}

/** A group whose handlers TypeScript checks against its operationIds: none missing, none extra. */
export const operationGroup = <const Id extends string>(
  operations: readonly OperationSpec<Id>[],
  handlers: (services: AppServices) => Readonly<Record<Id, Handler>>,
): OperationGroup<Id> => ({ operations, handlers });

/** `/groups/{groupID}` → `/groups/:groupID`. */
export const fastifyPath = (path: string): string => path.replace(/\{([^}]+)\}/g, ':$1');

/**
 * Registers every operation once: public, key and key+basic ones at the root, bearer ones in a
 * scope whose onRequest hooks authenticate and resolve the tenant before any body is read.
 */
export async function mountOperations(
  app: FastifyInstance,
  groups: readonly OperationGroup[],
  services: AppServices,
  bearerHooks: readonly onRequestAsyncHookHandler[],
): Promise<void> {
  // A status the table does not list for the operation is a gap in the document: say so in the log.
  app.addHook('onResponse', (request, reply, done) => {
    const { operationId, statuses } = request.routeOptions.config;
    if (statuses?.size && !statuses.has(reply.statusCode)) request.log.warn({ operationId, status: reply.statusCode }, 'status not documented for this operation');
    done();
  });
  const bound = groups.map((group) => ({ operations: group.operations, handlers: group.handlers(services) as Readonly<Record<string, Handler>> }));
  const route = (scope: FastifyInstance, spec: OperationSpec, handlers: Readonly<Record<string, Handler>>) => {
    const handler = handlers[spec.operationId];
    if (!handler) throw new Error(`operation ${spec.operationId} has no handler`);
    scope.route({
      method: spec.method.toUpperCase() as Uppercase<OperationSpec['method']>,
      url: fastifyPath(spec.path),
      config: { operationId: spec.operationId, statuses: new Set(Object.keys(spec.responses).map(Number)) },
      ...(typeof handler === 'function' ? { handler } : handler),
    });
  };
  for (const { operations, handlers } of bound) {
    for (const spec of operations) if (spec.access !== 'bearer') route(app, spec, handlers);
  }
  await app.register(async (scope) => {
    for (const hook of bearerHooks) scope.addHook('onRequest', hook);
    for (const { operations, handlers } of bound) {
      for (const spec of operations) if (spec.access === 'bearer') route(scope, spec, handlers);
    }
  });
}

const SECURITY = {
  public: [],
  key: [{ apiKeyAuth: [] }],
  'key+basic': [{ apiKeyAuth: [], basicAuth: [] }],
} as const;

/** The OpenAPI `paths` of the documented operations, in table order. */
export function operationPaths(operations: readonly OperationSpec[]): Record<string, Record<string, unknown>> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of operations) {
    if (spec.undocumented) continue;
    const item = (paths[spec.path] ??= spec.pathParameters ? { parameters: spec.pathParameters } : {});
    item[spec.method] = {
      operationId: spec.operationId,
      tags: spec.tags,
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      ...(spec.access === 'bearer' ? {} : { security: SECURITY[spec.access] }),
      ...(spec.parameters ? { parameters: spec.parameters } : {}),
      ...(spec.requestBody ? { requestBody: spec.requestBody } : {}),
      responses: spec.responses,
    };
  }
  return paths;
}

// The pieces operations are written with.

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const parameter = (name: string) => ({ $ref: `#/components/parameters/${name}` });
/** A documented response header, as `{name: {$ref}}` to spread into a response's headers. */
export const header = (name: string) => {
  const documented = documentedName(name);
  return { [documented]: { $ref: `#/components/headers/${documented}` } };
};

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
  501: 'This server does not offer this operation (the vendor delivers its codes by e-mail through its own service)',
  503: 'The database is unavailable, the server is shutting down, or it holds too many request bodies at once; see Retry-After',
};

/** One documented status: its reason, `x-activity-id` and any other headers, and the envelope (none: no body). */
export function response(status: number, envelope: string | null, headers: Record<string, object> = {}, description?: string): ResponseObject {
  return {
    description: description ?? `${STATUS_CODES[status]}: ${WHY[status]}`,
    headers: { ...header(HEADER.activityId), ...headers },
    ...(envelope ? { content: { 'application/json': { schema: ref(envelope) } } } : {}),
  };
}

/** The statuses every route that reads credentials or a body can answer (400, 401, 403, 429, 500, 503), the `extra` ones, and the route's own. */
export function responses(envelope: string, own: Record<number, ResponseObject>, extra: readonly number[]): Record<number, ResponseObject> {
  const all: Record<number, ResponseObject> = { ...own };
  for (const status of [400, 401, 403, ...extra, 429, 500, 503]) {
    // 429 (rate limit) and 503 (no database connection came free in time) say when to retry.
    const retry = status === 429 || status === 503;
    all[status] = retry ? response(status, envelope, header(HEADER.retryAfter)) : response(status, envelope);
  }
  return all;
}

const JSON_BODY_TYPES = ['application/json', 'text/json', 'application/*+json'];
/** A required JSON request body of this schema. */
export const body = (schema: object, description: string) => ({
  required: true,
  description,
  content: Object.fromEntries(JSON_BODY_TYPES.map((type) => [type, { schema }])),
});

/**
 * Operations the contract lists but this server answers 501 for (contract 6.5): mounted and
 * documented like any other, each answering in the envelope with a detail naming the route.
 */
export function notImplementedGroup<const Id extends string>(
  specs: readonly (Omit<OperationSpec<Id>, 'responses'> & { readonly envelope: string })[],
  why: string,
): OperationGroup<Id> {
  const operations = specs.map(({ envelope, ...spec }): OperationSpec<Id> => ({
    ...spec,
    responses: responses(envelope, { 501: response(501, envelope) }, []),
  }));
  const answer = (spec: OperationSpec<Id>): Handler => async () => {
    throw new ApiError(501, `${spec.method.toUpperCase()} ${spec.path} is not implemented by this server: ${why}`);
  };
  // One handler per spec, keyed by its operationId: what Record<Id, Handler> says, which fromEntries cannot.
  return operationGroup(operations, () => Object.fromEntries(operations.map((spec) => [spec.operationId, answer(spec)])) as Record<Id, Handler>);
}
