import { pathOf } from './context.js';
import { failure, success } from './envelope.js';
import { operationGroup, response } from './operation.js';

/** Liveness (the process answers) and readiness (every store answers): no credentials. */
export const healthOperations = operationGroup(
  [
    {
      operationId: 'GetHealth',
      method: 'get',
      path: '/healthz',
      access: 'public',
      tags: ['Health'],
      summary: 'Is the process alive?',
      responses: { 200: response(200, 'HealthStatusVBAResponse') },
    },
    {
      operationId: 'GetReadiness',
      method: 'get',
      path: '/readyz',
      access: 'public',
      tags: ['Health'],
      summary: 'Are the stores reachable?',
      responses: { 200: response(200, 'HealthStatusVBAResponse'), 503: response(503, 'HealthStatusVBAResponse') },
    },
  ],
  ({ store }) => ({
    GetHealth: async (request) => success(request.id, { status: 'ok' }),
    GetReadiness: async (request, reply) => {
      const ready = await store.ready();
      return reply.code(ready ? 200 : 503).send(
        ready ? success(request.id, { status: 'ready' }) : failure(request.id, 503, 'A store is unreachable', pathOf(request)),
      );
    },
  }),
);
