import type { FastifyInstance, FastifyRequest } from 'fastify';
import { statements } from '../derive/sql.js';
import { entityNamed, type Entity } from '../entities/index.js';
import { success } from '../http/envelope.js';
import { badRequest, notFound, payloadTooLarge } from '../http/errors.js';
import { batchUpserter } from './batch.js';
import { toRecord } from './records.js';

export interface ResourceOptions {
  readonly maxBatchRecords: number;
}

/** The routes of one record type; registered once per entity, inside the tenancy scope. */
export function resourceRoutes(app: FastifyInstance, entity: Entity, options: ResourceOptions): void {
  const upsertBatch = batchUpserter(entity);
  const sql = statements(entity, entityNamed);

  app.put(`/${entity.batchPath}`, async (request, reply) => {
    const records = request.body;
    if (!Array.isArray(records)) throw badRequest('The request body must be a JSON array of records');
    if (records.length > options.maxBatchRecords) {
      throw payloadTooLarge(`A batch may hold at most ${options.maxBatchRecords} records; this one has ${records.length}`);
    }
    const data = await upsertBatch(request.tenant, records, {
      user: request.identity?.username ?? null,
      activityID: request.id,
      log: request.log,
    });
    return reply.code(207).send(success(request.id, data));
  });

  app.get(`/${entity.path}/:${entity.keyParam}`, async (request) => {
    const key = keyFromPath(request);
    const [row] = canBeKey(entity, key) ? await request.tenant.query(sql.selectByKey, [key]) : [];
    if (!row) throw notFound(`No ${entity.label} has ${entity.key.name} "${key}"`);
    return success(request.id, toRecord(entity, row));
  });
}

/**
 * The key in the last path segment, URL-decoded with `+` read as a space (as the vendor does).
 * Read from the raw URL because the router has already turned `%2B` into `+`.
 */
export function keyFromPath(request: FastifyRequest): string {
  const path = request.url.split('?', 1)[0] ?? '';
  const segment = path.slice(path.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(segment.replace(/\+/g, ' '));
  } catch {
    throw badRequest('The key in the path is not valid URL encoding');
  }
}

/** A value that could never be stored is answered without a query (and never reaches the database). */
function canBeKey(entity: Entity, key: string): boolean {
  const length = [...key].length;
  return length >= (entity.key.minLength ?? 1) && length <= (entity.key.maxLength ?? Infinity) &&
    !key.includes('\u0000') && key.isWellFormed();
}
