import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Entity } from '../entities/index.js';
import { pathOf } from '../http/context.js';
import { success } from '../http/envelope.js';
import { badRequest, payloadTooLarge } from '../http/errors.js';
import { batchUpserter } from './batch.js';
import { parseListQuery } from './list-query.js';
import { sendListPage } from './list-response.js';
import { repository } from './repository.js';

export interface ResourceOptions {
  readonly maxBatchRecords: number;
  readonly maxTextChars: number;
}

/** The routes of one record type; registered once per entity, inside the authenticated tenant scope. */
export function resourceRoutes(app: FastifyInstance, entity: Entity, options: ResourceOptions): void {
  const upsertBatch = batchUpserter(entity, options);
  const records = repository(entity, options);
  const one = `/${entity.path}/:${entity.keyParam}`;
  const user = (request: FastifyRequest) => request.identity?.username ?? null;

  app.put(`/${entity.batchPath}`, async (request, reply) => {
    const body = request.body;
    if (!Array.isArray(body)) throw badRequest('The request body must be a JSON array of records');
    if (body.length > options.maxBatchRecords) {
      throw payloadTooLarge(`A batch may hold at most ${options.maxBatchRecords} records; this one has ${body.length}`);
    }
    const data = await upsertBatch(request.tenant, body, { user: user(request), activityID: request.id, log: request.log });
    return reply.code(207).send(success(request.id, data));
  });

  app.get(`/${entity.path}`, async (request, reply) => {
    const query = parseListQuery(entity, request.query as Record<string, unknown>);
    return sendListPage(request, reply, (sink) => records.list(request.tenant, query, sink), (total) => ({
      TotalCount: total,
      TotalPages: Math.ceil(total / query.pageSize),
      CurrentPage: query.page,
      PageSize: query.pageSize,
    }));
  });

  app.post(`/${entity.path}`, async (request) => success(request.id, await records.create(request.tenant, request.body, user(request))));

  app.get(one, async (request) => success(request.id, await records.get(request.tenant, keyFromPath(request))));

  app.put(one, async (request) =>
    success(request.id, await records.replace(request.tenant, keyFromPath(request), request.body, user(request))),
  );

  app.delete(one, async (request, reply) => {
    await records.remove(request.tenant, keyFromPath(request));
    return reply.code(204).send();
  });
}

/**
 * The key in the last path segment, URL-decoded with `+` read as a space (as the vendor does).
 * Read from the raw URL because the router has already turned `%2B` into `+`.
 */
export function keyFromPath(request: FastifyRequest): string {
  const path = pathOf(request);
  const segment = path.slice(path.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(segment.replace(/\+/g, ' '));
  } catch {
    throw badRequest('The key in the path is not valid URL encoding');
  }
}
