import { referrersOf, type Entity } from '../entities/index.js';
import { body, header, parameter, ref, response, responses, type AppServices, type Handler, type OperationGroup, type OperationSpec } from '../http/operation.js';
import { recordHandlers } from './routes.js';
import { HEADER } from '../http/headers.js';

/** The six operations every record type has, by what they do. */
export type RecordRole = 'list' | 'create' | 'get' | 'replace' | 'remove' | 'batch';

const capitalise = (text: string) => text.replace(/(^|\s)\S/g, (letter) => letter.toUpperCase());
/** `benefit category` → `BenefitCategory`; `benefit-categories` → `BenefitCategories`. */
const singularName = (entity: Entity) => capitalise(entity.label).replace(/\s/g, '');
export const pluralName = (entity: Entity) => capitalise(entity.path.replace(/-/g, ' ')).replace(/\s/g, '');

const BATCH_HEADERS = { ...header(HEADER.batchSummary), ...header(HEADER.idempotentReplayed), ...header(HEADER.preferenceApplied) };

/**
 * The operations of one record type, computed from its description: paths, parameters, bodies and
 * every status each can answer (422 only where the record refers to others, 409 on delete only
 * where others refer to it).
 */
export function recordOperations(entity: Entity): Record<RecordRole, OperationSpec> {
  const one = singularName(entity);
  const many = pluralName(entity);
  const single = `${entity.schemaName}VBAResponse`;
  const list = `${entity.schemaName}ListVBAResponse`;
  const tags = [many];
  const database = [parameter('database')];
  const keyParameter = {
    name: entity.keyParam,
    in: 'path',
    required: true,
    description: `${entity.key.name}, URL-encoded (\`+\` and \`%20\` are both a space)`,
    schema: { type: 'string', minLength: entity.key.minLength, maxLength: entity.key.maxLength },
  };
  const filters = Object.entries(entity.filters ?? {}).map(([name, field]) => ({
    name,
    in: 'query',
    description: `Only records whose ${field} is exactly this`,
    schema: { type: 'string' },
  }));
  const writes = entity.references.length ? [413, 415, 422] : [413, 415];
  const collection = `/${entity.path}`;
  const item = `/${entity.path}/{${entity.keyParam}}`;
  const common = { access: 'bearer', tags } as const;

  return {
    list: {
      ...common,
      operationId: `List${many}`,
      method: 'get',
      path: collection,
      pathParameters: database,
      summary: `List ${entity.label} records, a page at a time`,
      parameters: [parameter('page'), parameter('pageSize'), parameter('sortBy'), ...filters],
      responses: responses(list, { 200: response(200, list, header(HEADER.pagination)) }, []),
    },
    create: {
      ...common,
      operationId: `Create${one}`,
      method: 'post',
      path: collection,
      pathParameters: database,
      summary: `Create a ${entity.label}`,
      requestBody: body(ref(entity.schemaName), `The new ${entity.label}; audit fields are set by the server`),
      responses: responses(single, { 200: response(200, single) }, [409, ...writes]),
    },
    get: {
      ...common,
      operationId: `Get${one}`,
      method: 'get',
      path: item,
      pathParameters: [...database, keyParameter],
      summary: `Get a ${entity.label}`,
      responses: responses(single, { 200: response(200, single) }, [404]),
    },
    replace: {
      ...common,
      operationId: `Update${one}`,
      method: 'put',
      path: item,
      pathParameters: [...database, keyParameter],
      summary: `Replace a ${entity.label} (omitted nullable fields become null)`,
      requestBody: body(ref(entity.schemaName), `The whole ${entity.label}; its key, when present, must be the path's`),
      responses: responses(single, { 200: response(200, single) }, [404, ...writes]),
    },
    remove: {
      ...common,
      operationId: `Delete${one}`,
      method: 'delete',
      path: item,
      pathParameters: [...database, keyParameter],
      summary: `Delete a ${entity.label}`,
      responses: responses(single, { 204: response(204, null) }, referrersOf(entity).length ? [404, 409] : [404]),
    },
    batch: {
      ...common,
      operationId: `CreateOrUpdateBatch${many}`,
      method: 'put',
      path: `/${entity.batchPath}`,
      pathParameters: database,
      summary: `Create or update many ${entity.label} records at once`,
      description:
        'Each record is created or updated; the 207 answer says per record what happened, in input order. ' +
        'A key sent several times is applied as if sent one after another. All 200/201 records are committed in one transaction. ' +
        'Every answer carries `x-batch-summary`; see `Idempotency-Key`, `validateOnly`, `allOrNone` and `Prefer: handling=strict`.',
      requestBody: body({ type: 'array', items: ref(entity.schemaName) }, `${capitalise(entity.label)} records`),
      parameters: [parameter('idempotencyKey'), parameter('validateOnly'), parameter('allOrNone'), parameter('prefer')],
      responses: {
        ...responses('MultiCodeResponseListVBAResponse', { 207: response(207, 'MultiCodeResponseListVBAResponse', BATCH_HEADERS) }, [413, 415]),
        409: response(409, 'MultiCodeResponseListVBAResponse', {}, 'Conflict: a request with this Idempotency-Key is still being processed'),
        422: response(422, 'MultiCodeResponseListVBAResponse', {}, 'Unprocessable Content: this Idempotency-Key was used with a different request'),
      },
    },
  };
}

/** The order of a record type's operations in the document. */
export const RECORD_ROLES: readonly RecordRole[] = ['list', 'create', 'get', 'replace', 'remove', 'batch'];

/** Handlers by role → handlers by the specs' operationIds. */
export const byOperationId = (specs: Record<RecordRole, OperationSpec>, handlers: Record<RecordRole, Handler>): Record<string, Handler> =>
  Object.fromEntries(RECORD_ROLES.map((role) => [specs[role].operationId, handlers[role]]));

/** A record type's operations with the generic handlers (validation, SQL, batch engine). */
export function entityOperations(entity: Entity): OperationGroup {
  const specs = recordOperations(entity);
  return {
    operations: RECORD_ROLES.map((role) => specs[role]),
    handlers: (services: AppServices) => byOperationId(specs, recordHandlers(entity, services.config)),
  };
}
