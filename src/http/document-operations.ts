import { operationGroup } from './operation.js';

const served = { access: 'public', tags: [], summary: 'This OpenAPI document', responses: {}, undocumented: true } as const;

/** `GET /openapi.json` and `/openapi.yaml`: the document itself, which does not describe them. */
export const documentOperations = operationGroup(
  [
    { ...served, operationId: 'GetOpenApiJson', method: 'get', path: '/openapi.json' },
    { ...served, operationId: 'GetOpenApiYaml', method: 'get', path: '/openapi.yaml' },
  ],
  ({ document }) => ({
    GetOpenApiJson: async (_request, reply) => reply.type('application/json; charset=utf-8').send(document.json),
    GetOpenApiYaml: async (_request, reply) => reply.type('application/yaml; charset=utf-8').send(document.yaml),
  }),
);
