import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { inputSchema } from '../src/derive/json-schema.js';
import { recordValidator } from '../src/derive/validate.js';
import { entities, entityNamed } from '../src/entities/index.js';
import { buildApp } from '../src/http/app.js';
import { document } from '../src/http/docs.js';
import { testConfig } from './support/api.js';
import { backends, openStore } from './support/backends.js';
import { groupFields } from './support/contract-fields.js';
import { checkResponse } from './support/openapi-check.js';

type Doc = {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, { properties: Record<string, Record<string, unknown>>; required: string[] }> };
};
const doc = document as unknown as Doc;

test('the document is valid OpenAPI 3.1 (@seriousme/openapi-schema-validator)', async () => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document));
  assert.deepEqual(result.errors ?? [], []);
  assert.equal(result.valid, true);
  assert.equal(validator.version, '3.1');
});

test('served at /openapi.json and /openapi.yaml, also under /vbasoftware, without credentials', async () => {
  const setup = await backends[0]!.prepare();
  const store = await openStore(setup);
  try {
    const app = await buildApp({ store, config: testConfig() });
    const json = await app.inject({ url: '/openapi.json' });
    assert.equal(json.statusCode, 200);
    assert.deepEqual(JSON.parse(json.body), document);
    const yaml = await app.inject({ url: '/vbasoftware/openapi.yaml' });
    assert.equal(yaml.statusCode, 200);
    assert.match(yaml.body, /^openapi: 3\.1\.0/);
    await app.close();
  } finally {
    await store.close();
    await setup.cleanup();
  }
});

test('the request validator and the document cannot drift: same field schemas, same required lists', () => {
  for (const entity of entities) {
    const component = doc.components.schemas[entity.schemaName]!;
    const validated = inputSchema(entity);
    for (const [name, schema] of Object.entries(validated.properties!)) {
      const { description: _description, ...documented } = component.properties[name]!;
      assert.deepEqual(documented, schema, `${entity.schemaName}.${name}`);
    }
    assert.deepEqual(component.required, validated.required);
    assert.deepEqual(Object.keys(component.properties), entity.fields.map((field) => field.name));
  }
});

test('the records describe the lenient handling of unknown fields truthfully: not forbidden, said to be ignored', () => {
  for (const entity of entities) {
    const component = doc.components.schemas[entity.schemaName] as unknown as { additionalProperties?: unknown; description: string };
    assert.equal(component.additionalProperties, undefined, entity.schemaName);
    assert.match(component.description, /fields not listed here .* are ignored, not refused/, entity.schemaName);
  }
  // What the document says is what happens: a record with an unknown field is accepted.
  const validate = recordValidator(entityNamed('benefitCategory'));
  assert.equal(validate({ benefit_Category: 'MEDICAL', Benefit_category: 'x', colour: 'blue' }).ok, true);
});

test('vendor names and exact field names: Groups has the contract fields, envelopes as the vendor names them', () => {
  assert.deepEqual(Object.keys(doc.components.schemas.Groups!.properties), groupFields.map((field) => field.name));
  for (const name of ['BenefitCodesVBAResponse', 'GroupsListVBAResponse', 'BenefitCategoryVBAResponse', 'MultiCodeResponseListVBAResponse', 'VBAProblemDetails', 'Debug', 'KeyValuePair']) {
    assert.ok(doc.components.schemas[name], name);
  }
  const schemes = (document as { components: { securitySchemes: Record<string, unknown> } }).components.securitySchemes;
  assert.deepEqual(Object.keys(schemes).sort(), ['apiKeyAuth', 'basicAuth', 'bearerAuth']);
  const batch = doc.paths['/groups-batch']!.put as { responses: Record<string, unknown>; parameters?: unknown[] };
  assert.ok(batch.responses['207']);
  const list = doc.paths['/groups']!.get as { responses: Record<string, { headers: Record<string, unknown> }> };
  assert.ok(list.responses['200']!.headers['x-pagination']);
});

test('the response checker every contract test runs is not vacuous', () => {
  const envelope = (data: unknown) => JSON.stringify({ data, error: null, debug: { activityID: '8bdbe7f0-a5ef-4b2a-a2c8-a830367856b6' } });
  const value = (field: (typeof groupFields)[number]) =>
    field.type === 'boolean' ? false : field.type === 'date-time' && !field.nullable ? '2024-01-02T03:04:05.000Z' : field.required ? 'G' : null;
  const groupRecord = Object.fromEntries(groupFields.map((field) => [field.name, value(field)]));
  assert.doesNotThrow(() => checkResponse('GET', '/groups/G', 200, {}, envelope(groupRecord)));
  assert.throws(() => checkResponse('GET', '/groups/G', 418, {}, envelope(groupRecord)), /undocumented status/);
  assert.throws(() => checkResponse('GET', '/groups/G', 200, {}, envelope({ ...groupRecord, extra: 1 })), /does not match/);
  const { name: _name, ...missingOptional } = groupRecord;
  assert.throws(() => checkResponse('GET', '/groups/G', 200, {}, envelope(missingOptional)), /lacks fields/);
  assert.throws(() => checkResponse('GET', '/groups/G', 200, {}, envelope({ ...groupRecord, admin_COBRA: null })), /does not match/);
  assert.throws(() => checkResponse('GET', '/groups', 200, {}, envelope([groupRecord])), /x-pagination/);
  assert.throws(() => checkResponse('PATCH', '/groups/G', 200, {}, envelope(groupRecord)), /undocumented/);
  assert.throws(() => checkResponse('DELETE', '/groups/G', 204, {}, envelope(null)), /without a body/);
});
