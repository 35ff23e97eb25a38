import assert from 'node:assert/strict';
import { test } from 'node:test';
import { messageFor, recordValidator } from '../src/derive/validate.js';
import { ident, statements } from '../src/derive/sql.js';
import { entities, entityNamed, referrersOf } from '../src/entities/index.js';
import { withoutVendorPrefix } from '../src/http/vendor-prefix.js';
import type { ApiError } from '../src/http/errors.js';
import { fastifyPath, notImplementedGroup, operationPaths, type AppServices } from '../src/http/operation.js';
import { operations } from '../src/http/operation-table.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE, parseListQuery } from '../src/resources/list-query.js';

/** Unit tests of the operation table (routes and document both come from it), list queries, messages and SQL text. */

const documented = operations.filter((operation) => !operation.undocumented);

test('no method and path twice, no operationId twice (Fastify would refuse the first; generators the second)', () => {
  const routes = operations.map((operation) => `${operation.method} ${fastifyPath(operation.path)}`);
  assert.deepEqual(routes.filter((route, index) => routes.indexOf(route) !== index), []);
  const ids = operations.map((operation) => operation.operationId);
  assert.deepEqual(ids.filter((id, index) => ids.indexOf(id) !== index), []);
});

test('every documented operation has a success status (or 501: not offered, contract 6.5) and the statuses its access implies', () => {
  for (const operation of documented) {
    const statuses = Object.keys(operation.responses).map(Number);
    const name = operation.operationId;
    assert.ok(statuses.some((status) => status >= 200 && status < 300) || statuses.includes(501), `${name}: a 2xx or 501`);
    if (operation.access === 'public') continue;
    // Credentials are read (401), a User-Agent is required (403), the key is rate-limited (429), anything may fail (500, 503).
    for (const status of [400, 401, 403, 429, 500, 503]) assert.ok(statuses.includes(status), `${name}: ${status}`);
    if (operation.requestBody) assert.ok(statuses.includes(415) || name === 'ChangeTemporaryPassword' || statuses.includes(413), `${name}: a body`);
    for (const status of [429, 503]) assert.ok(operation.responses[status]!.headers['Retry-After'], `${name} ${status}: Retry-After`);
    for (const [status, answer] of Object.entries(operation.responses)) {
      assert.ok(answer.headers['x-activity-id'], `${name} ${status}: x-activity-id`);
      if (status !== '204') assert.ok(answer.content, `${name} ${status}: a body`);
    }
  }
});

test('operations on one path agree on its path parameters, and declare every {parameter} of the path', () => {
  for (const operation of documented) {
    const sharing = documented.filter((other) => other.path === operation.path);
    for (const other of sharing) assert.deepEqual(other.pathParameters, operation.pathParameters, `${operation.operationId} vs ${other.operationId}`);
    for (const [, name] of operation.path.matchAll(/\{([^}]+)\}/g)) {
      const declared = [...(operation.pathParameters ?? []), ...(operation.parameters ?? [])] as { name?: string; in?: string }[];
      assert.ok(declared.some((parameter) => parameter.name === name && parameter.in === 'path'), `${operation.operationId}: {${name}}`);
    }
  }
});

test('the document paths are the table, in order; Fastify paths are derived', () => {
  const paths = operationPaths(operations);
  assert.deepEqual(Object.keys(paths), [...new Set(documented.map((operation) => operation.path))]);
  assert.equal(paths['/openapi.json'], undefined);
  assert.equal(fastifyPath('/users/{userID}/admin-disable'), '/users/:userID/admin-disable');
  for (const entity of entities) {
    const item = paths[`/${entity.path}/{${entity.keyParam}}`] as Record<string, { responses: Record<number, unknown> }>;
    // 409 on delete exactly when another record refers to this one.
    assert.equal(item.delete!.responses[409] !== undefined, referrersOf(entity).length > 0, entity.name);
    // 422 on writes exactly when this record refers to another.
    assert.equal(item.put!.responses[422] !== undefined, entity.references.length > 0, entity.name);
  }
});

test('a not-implemented operation documents 501 (and the usual statuses) and answers it naming the route', async () => {
  const group = notImplementedGroup([
    { operationId: 'ForgotPassword', method: 'post', path: '/forgot-password', access: 'key', tags: ['Authentication'], summary: 'Not offered', envelope: 'StringVBAResponse' },
  ], 'ask an administrator');
  const [spec] = group.operations;
  assert.deepEqual(Object.keys(spec!.responses).map(Number), [400, 401, 403, 429, 500, 501, 503]);
  const handler = group.handlers({} as AppServices).ForgotPassword;
  assert.equal(typeof handler, 'function');
  const run = handler as (this: unknown, request: unknown, reply: unknown) => Promise<unknown>;
  await assert.rejects(run.call(null, {}, {}), { status: 501, message: 'POST /forgot-password is not implemented by this server: ask an administrator' });
});

test('/vbasoftware is rewritten away for operations only', () => {
  assert.equal(withoutVendorPrefix('/vbasoftware/groups/X%20Y?page=2'), '/groups/X%20Y?page=2');
  assert.equal(withoutVendorPrefix('/vbasoftware/groups-batch'), '/groups-batch');
  assert.equal(withoutVendorPrefix('/vbasoftware/healthz'), '/healthz');
  assert.equal(withoutVendorPrefix('/vbasoftware/openapi.yaml'), '/openapi.yaml');
  assert.equal(withoutVendorPrefix('/vbasoftware/users/u/admin-enable'), '/users/u/admin-enable');
  assert.equal(withoutVendorPrefix('/vbasoftware/mfa-status'), '/mfa-status');
  assert.equal(withoutVendorPrefix('/vbasoftware/forgot-password'), '/forgot-password');
  assert.equal(withoutVendorPrefix('/vbasoftware/docs'), '/vbasoftware/docs');
  assert.equal(withoutVendorPrefix('/vbasoftware/nope'), '/vbasoftware/nope');
  assert.equal(withoutVendorPrefix('/vbasoftware'), '/vbasoftware');
  assert.equal(withoutVendorPrefix('/vbasoftwaregroups'), '/vbasoftwaregroups');
  assert.equal(withoutVendorPrefix('/groups'), '/groups');
});

test('list queries: defaults, bounds from one place, filters and sort keys', () => {
  const groups = entityNamed('group');
  const benefits = entityNamed('benefit');
  assert.deepEqual(parseListQuery(groups, {}), { page: 1, pageSize: DEFAULT_PAGE_SIZE, order: [], filters: [] });
  const problems = (query: Record<string, unknown>) => {
    try {
      parseListQuery(benefits, query);
      return [];
    } catch (error) {
      assert.equal((error as ApiError).status, 400);
      return (error as ApiError).errors ?? [];
    }
  };
  assert.deepEqual(problems({ pageSize: String(MAX_PAGE_SIZE) }), []);
  assert.deepEqual(problems({ pageSize: String(MAX_PAGE_SIZE + 1) }), [{ field: 'pageSize', message: `must be an integer from 1 to ${MAX_PAGE_SIZE}` }]);
  assert.deepEqual(problems({ page: String(MAX_PAGE + 1) }), [{ field: 'page', message: `must be an integer from 1 to ${MAX_PAGE}` }]);
  assert.deepEqual(problems({ page: '0', pageSize: '1.5' }).map((error) => error.field), ['page', 'pageSize']);
  assert.deepEqual(problems({ page: ['1', '2'] }), [{ field: 'page', message: 'must be given once' }]);
  assert.deepEqual(problems({ benefitCategory: 'a\u0000b' }), [{ field: 'benefitCategory', message: 'must be text without NUL characters' }]);
  const query = parseListQuery(benefits, { benefitCategory: 'MEDICAL', sortBy: 'BENEFIT_DESCRIPTION:desc, benefit_code' });
  assert.deepEqual(query.filters.map(([field, value]) => [field.name, value]), [['benefit_Category', 'MEDICAL']]);
  assert.deepEqual(query.order.map((key) => [key.field.name, key.descending]), [['benefit_Description', true], ['benefit_Code', false]]);
});

test('field messages: the type as Ajv judged it, then range, form and length', () => {
  const field = (name: string) => entityNamed('group').fields.find((candidate) => candidate.name === name)!;
  assert.equal(messageFor(field('group_ID'), undefined, false), 'is required');
  assert.equal(messageFor(field('group_ID'), null, true), 'must not be null');
  assert.equal(messageFor(field('name'), 5, true), 'must be a string or null');
  assert.equal(messageFor(field('group_ID'), 'x'.repeat(40), false), 'must be 1-20 characters');
  assert.equal(messageFor(field('group_ID'), ' X', false), 'must not start or end with a space');
  assert.equal(messageFor(field('group_ID'), 'a\u0000', false), 'must not contain the NUL character');
  const messages = (record: Record<string, unknown>) => {
    const result = recordValidator(entityNamed('group'))(record);
    return result.ok ? [] : result.errors;
  };
  const base = { group_ID: 'G' };
  const errorsFor = (name: string, value: unknown) => messages({ ...base, [name]: value }).filter((error) => error.field === name);
  const int = entityNamed('group').fields.find((candidate) => candidate.type === 'int32')!;
  const date = entityNamed('group').fields.find((candidate) => candidate.type === 'date-time' && !candidate.audit)!;
  assert.deepEqual(errorsFor(int.name, 1.5), [{ field: int.name, message: 'must be an integer or null' }]);
  assert.deepEqual(errorsFor(int.name, 2 ** 31), [{ field: int.name, message: 'must be a 32-bit integer (-2147483648 to 2147483647)' }]);
  assert.deepEqual(errorsFor(int.name, '5'), [{ field: int.name, message: 'must be an integer or null' }]);
  assert.deepEqual(errorsFor(date.name, 'yesterday'), [{ field: date.name, message: 'must be an ISO 8601 date-time, e.g. 2024-01-02T03:04:05Z or 2024-01-02' }]);
});

test('SQL text: identifiers quoted, statements built from the field list', () => {
  assert.equal(ident('group_ID'), '"group_ID"');
  assert.equal(ident('we"ird'), '"we""ird"');
  const sql = statements(entityNamed('benefitCategory'), entityNamed);
  assert.match(sql.selectByKey, /"benefit_Category" = \$1/);
  assert.doesNotMatch(sql.selectByKey, /\$2/);
});
