import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { entities } from '../../src/entities/index.js';
import { document } from '../../src/http/docs.js';

/**
 * Checks a response against the OpenAPI document: the route and status are documented, the body
 * matches the documented schema (which forbids fields outside it), every record carries every
 * field of its schema, and lists carry x-pagination. apiOf() runs it on every response the
 * contract tests receive, so a response the document does not describe fails the test that got it.
 */
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema(forResponses(document), 'openapi');

/**
 * The record schemas allow other properties because requests may carry unknown fields (ignored);
 * responses carry exactly the listed fields, as the records' descriptions say, so here they forbid others.
 */
function forResponses(openapi: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(openapi) as { components: { schemas: Record<string, Record<string, unknown>> } };
  for (const entity of entities) copy.components.schemas[entity.schemaName]!.additionalProperties = false;
  return copy;
}

type Operation = { responses: Record<string, { content?: Record<string, { schema: { $ref: string } }>; headers?: Record<string, unknown> }> };
const doc = document as { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, { properties?: object }> } };

const routes = Object.entries(doc.paths).map(([template, item]) => ({
  pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  item,
}));
const validators = new Map<string, ValidateFunction>();

function validatorFor(ref: string): ValidateFunction {
  let validate = validators.get(ref);
  if (!validate) {
    validate = ajv.getSchema(`openapi${ref}`)!;
    validators.set(ref, validate);
  }
  return validate;
}

export function checkResponse(method: string, url: string, status: number, headers: Record<string, unknown>, body: string): void {
  const path = (url.split('?', 1)[0] ?? '').replace(/^\/vbasoftware(?=\/)/, '');
  if (method === 'OPTIONS') return; // CORS preflight, not an API operation
  const operation = routes.find((route) => route.pattern.test(path))?.item[method.toLowerCase()];
  if (!operation) {
    // An unknown route or method: the not-found envelope.
    if (status !== 404) throw new Error(`undocumented: ${method} ${path} answered ${status}`);
    return assertValid('#/components/schemas/HealthStatusVBAResponse', JSON.parse(body), `${method} ${path} ${status}`);
  }
  const documented = operation.responses[String(status)];
  if (!documented) throw new Error(`undocumented status: ${method} ${path} answered ${status}: ${body.slice(0, 300)}`);
  const schema = documented.content?.['application/json']?.schema;
  if (!schema) {
    if (body !== '') throw new Error(`${method} ${path} ${status} is documented without a body but has one`);
    return;
  }
  const parsed = JSON.parse(body);
  assertValid(schema.$ref, parsed, `${method} ${path} ${status}`);
  if (documented.headers?.['x-pagination'] && headers['x-pagination'] === undefined) {
    throw new Error(`${method} ${path} ${status}: x-pagination header missing`);
  }
  assertCompleteRecords(schema.$ref, parsed.data, `${method} ${path} ${status}`);
}

function assertValid(ref: string, value: unknown, what: string): void {
  const validate = validatorFor(ref);
  if (!validate(value)) {
    throw new Error(`${what} does not match ${ref}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 500)}`);
  }
}

/** The contract: "Every record returned by the server carries every field". */
function assertCompleteRecords(envelopeRef: string, data: unknown, what: string): void {
  const name = envelopeRef.split('/').pop()!.replace(/(List)?VBAResponse$/, '');
  const properties = doc.components.schemas[name]?.properties;
  if (!properties || data === null) return;
  const expected = Object.keys(properties).join(',');
  for (const record of Array.isArray(data) ? data : [data]) {
    if (Object.keys(record as object).join(',') !== expected) throw new Error(`${what}: a ${name} record lacks fields: ${JSON.stringify(record).slice(0, 300)}`);
  }
}
