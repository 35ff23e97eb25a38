import type { FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { Entity } from '../entities/index.js';
import { pathOf } from '../http/context.js';
import { success, successText } from '../http/envelope.js';
import { badRequest, payloadTooLarge } from '../http/errors.js';
import { compileRecord } from './compiled.js';
import { batchUpserter, summarise, type BatchOutcome } from './batch.js';
import {
  AlreadyAnswered,
  claim,
  fingerprint,
  holding,
  IDEMPOTENCY_HEADER,
  idempotencyKey,
  REPLAYED_HEADER,
  replayOrRefuse,
  store,
  storedAnswer,
  type IdempotencyScope,
  type StoredAnswer,
} from './idempotency.js';
import { parseListQuery } from './list-query.js';
import type { RecordRole } from './operations.js';
import { sendListPage } from './list-response.js';
import { repository } from './repository.js';
import { HEADER } from '../http/headers.js';

const JSON_UTF8 = 'application/json; charset=utf-8';

export interface ResourceOptions {
  readonly maxBatchRecords: number;
  readonly idempotencyTtlSeconds: number;
  readonly maxTextChars: number;
  readonly batchChunkRows: number;
}

/** The handlers of one record type's operations (see operations.ts), built once per entity and app. */
export function recordHandlers(entity: Entity, options: ResourceOptions): Record<RecordRole, RouteHandlerMethod> {
  const compiled = compileRecord(entity, options);
  const upsertBatch = batchUpserter(entity, options, compiled);
  const records = repository(entity, compiled);
  const user = (request: FastifyRequest) => request.identity?.username ?? null;

  const batch: RouteHandlerMethod = async (request, reply) => {
    const started = performance.now();
    const body = request.body;
    if (!Array.isArray(body)) throw badRequest('The request body must be a JSON array of records');
    if (body.length > options.maxBatchRecords) {
      throw payloadTooLarge(`A batch may hold at most ${options.maxBatchRecords} records; this one has ${body.length}`);
    }
    const query = request.query as Record<string, unknown>;
    const validateOnly = flag(query, 'validateOnly');
    const allOrNone = flag(query, 'allOrNone');
    const strict = strictHandling(request.headers[HEADER.prefer]);
    const key = idempotencyKey(request.headers[IDEMPOTENCY_HEADER]);
    const answer = (results: readonly BatchOutcome[]): StoredAnswer => ({
      status: 207,
      headers: {
        [HEADER.batchSummary]: Object.entries(summarise(results)).map(([name, count]) => `${name}=${count}`).join('; '),
        ...(strict ? { [HEADER.preferenceApplied]: 'handling=strict' } : {}),
      },
      body: JSON.stringify(success(request.id, results)),
    });
    const context = { user: user(request), activityID: request.id, log: request.log };
    const send = (sent: StoredAnswer, replayed: boolean) => {
      const summary = sent.headers[HEADER.batchSummary];
      const ms = performance.now() - started;
      request.log.info(
        { entity: entity.name, records: body.length, summary, ms: Math.round(ms), recordsPerSecond: Math.round(body.length / (ms / 1000)), validateOnly, allOrNone, replayed },
        `batch ${entity.batchPath}: ${summary}`,
      );
      if (replayed) reply.header(REPLAYED_HEADER, 'true');
      return reply.code(sent.status).headers(sent.headers).type(JSON_UTF8).send(sent.body);
    };

    // A dry run stores nothing, its key included: the key is checked, then plays no part.
    if (key === null || validateOnly) return send(answer(await upsertBatch(request.tenant, body, context, { validateOnly, allOrNone, strict })), false);

    const scope: IdempotencyScope = {
      database: request.identity?.database ?? '',
      clientId: request.identity?.clientId ?? '',
      key,
      fingerprint: fingerprint(entity.batchPath, { allOrNone, strict }, body),
    };
    try {
      return await holding(request.tenant, scope, request.log, async () => {
        const stored = await storedAnswer(request.tenant, scope);
        if (stored) throw stored;
        const results = await upsertBatch(request.tenant, body, context, {
          allOrNone,
          strict,
          idempotency: {
            claim: (tx) => claim(tx, scope),
            store: (tx, results) => store(tx, scope, answer(results), options.idempotencyTtlSeconds),
          },
        });
        return send(answer(results), false);
      });
    } catch (error) {
      if (error instanceof AlreadyAnswered) return send(replayOrRefuse(scope, error), true);
      throw error;
    }
  };

  const list: RouteHandlerMethod = async (request, reply) => {
    const query = parseListQuery(entity, request.query as Record<string, unknown>);
    return sendListPage(request, reply, (sink) => records.list(request.tenant, query, sink), (total) => ({
      TotalCount: total,
      TotalPages: Math.ceil(total / query.pageSize),
      CurrentPage: query.page,
      PageSize: query.pageSize,
    }));
  };

  return {
    batch,
    list,
    create: async (request) => success(request.id, await records.create(request.tenant, request.body, user(request))),
    get: async (request, reply) => reply.type(JSON_UTF8).send(successText(request.id, await records.getJson(request.tenant, keyFromPath(request)))),
    replace: async (request) => success(request.id, await records.replace(request.tenant, keyFromPath(request), request.body, user(request))),
    remove: async (request, reply) => {
      await records.remove(request.tenant, keyFromPath(request));
      return reply.code(204).send();
    },
  };
}

/**
 * The key in the last path segment, URL-decoded with `+` read as a space (as the vendor does).
 * Read from the raw URL because the router has already turned `%2B` into `+`.
 */
function keyFromPath(request: FastifyRequest): string {
  const path = pathOf(request);
  const segment = path.slice(path.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(segment.replace(/\+/g, ' '));
  } catch {
    throw badRequest('The key in the path is not valid URL encoding');
  }
}

/** A boolean query parameter: absent = false; only `true` and `false` are accepted. */
function flag(query: Record<string, unknown>, name: string): boolean {
  const value = query[name];
  if (value === undefined) return false;
  if (value === 'true' || value === 'false') return value === 'true';
  throw badRequest(`${name} must be true or false`);
}

/** RFC 7240 `Prefer`, possibly several preferences in one or more headers: is `handling=strict` among them? */
function strictHandling(prefer: string | string[] | undefined): boolean {
  const preferences = (Array.isArray(prefer) ? prefer.join(',') : prefer ?? '').split(',');
  return preferences.some((preference) => /^\s*handling\s*=\s*"?strict"?\s*(?:;|$)/i.test(preference));
}
