import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { failure } from './envelope.js';
import type { StoreStats } from '../store/store.js';
import { pathOf } from './context.js';

/**
 * Prometheus metrics (prom-client), one registry per process: what an operator watches on day two.
 * Labels are bounded: routes by their pattern (`/groups/:groupID`, never the raw URL), record types
 * and statuses from fixed lists, PostgreSQL servers by host:port.
 */
const registry = new Registry();
// Event-loop lag, heap and resident memory, GC, handles: prom-client's standard Node metrics.
collectDefaultMetrics({ register: registry });

const httpDuration = new Histogram({
  name: 'vbapi_http_request_duration_seconds',
  help: 'HTTP requests by route pattern, method and status, with their latency',
  labelNames: ['route', 'method', 'status_code'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

const batchRecordsTotal = new Counter({
  name: 'vbapi_batch_records_total',
  help: 'Records of batch upserts by record type and per-record status (201 created, 200 updated, 400, 422, 500)',
  labelNames: ['type', 'status'] as const,
  registers: [registry],
});

const rateLimitedTotal = new Counter({
  name: 'vbapi_rate_limited_total',
  help: 'Requests refused by the per-key rate limit (429)',
  registers: [registry],
});

const loginsTotal = new Counter({
  name: 'vbapi_logins_total',
  help: 'POST /user-authentication by outcome',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

/** The stores of the apps built in this process (one in production), read at each scrape. */
const stores = new Set<{ stats(): StoreStats }>();
const snapshot = () => [...stores].map((store) => store.stats());

new Gauge({
  name: 'vbapi_open_tenants',
  help: 'Tenant databases currently open',
  registers: [registry],
  collect() {
    this.set(snapshot().reduce((sum, stats) => sum + stats.openTenants, 0));
  },
});

new Gauge({
  name: 'vbapi_db_connections',
  help: 'PostgreSQL connections per server: in use, idle, and requests waiting for one',
  labelNames: ['server', 'state'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const { pools } of snapshot()) {
      for (const pool of pools) {
        this.inc({ server: pool.server, state: 'in_use' }, pool.inUse);
        this.inc({ server: pool.server, state: 'idle' }, pool.idle);
        this.inc({ server: pool.server, state: 'waiting' }, pool.waiting);
      }
    }
  },
});

new Gauge({
  name: 'vbapi_db_connections_max',
  help: 'PostgreSQL connections the server may open, per PostgreSQL server',
  labelNames: ['server'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const { pools } of snapshot()) for (const pool of pools) this.inc({ server: pool.server }, pool.max);
  },
});

const LOGIN_OUTCOME: Record<number, string> = { 200: 'success', 400: 'invalid', 401: 'unauthorized', 403: 'forbidden', 429: 'rate_limited' };

export const metrics = {
  /** Called by the batch engine once per request: `count` records of `type` answered `status`. */
  batchRecords(type: string, status: number, count: number): void {
    if (count > 0) batchRecordsTotal.inc({ type, status: String(status) }, count);
  },
  /** The scrape, in the Prometheus text format. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: registry.contentType, body: await registry.metrics() };
  },
};

/**
 * Counts every response of `app` (route pattern, method, status, latency; logins and rate-limit
 * refusals from their statuses), watches `store`, and, with a token, serves `GET /metrics` behind it.
 */
export function metricsHooks(app: FastifyInstance, store: { stats(): StoreStats }, token: string | undefined): void {
  stores.add(store);
  app.addHook('onClose', async () => void stores.delete(store));
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    httpDuration.observe({ route, method: request.method, status_code: String(status) }, reply.elapsedTime / 1000);
    if (status === 429) rateLimitedTotal.inc();
    if (request.routeOptions.config.operationId === 'UserAuthentication') {
      loginsTotal.inc({ outcome: LOGIN_OUTCOME[status] ?? (status >= 500 ? 'error' : 'other') });
    }
    done();
  });
  if (token === undefined) return;
  const expected = Buffer.from(`Bearer ${token}`);
  app.get('/metrics', async (request, reply) => {
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return reply.code(401).send(failure(request.id, 401, 'GET /metrics needs Authorization: Bearer <VBAPI_METRICS_TOKEN>', pathOf(request)));
    }
    const { contentType, body } = await metrics.scrape();
    return reply.type(contentType).send(body);
  });
}

/** `VBAPI_METRICS_PORT`: only `GET /metrics`, no token; meant for a port only Prometheus reaches. */
export async function metricsServer(host: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?', 1)[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Only GET /metrics is served here\n');
      return;
    }
    metrics.scrape().then(
      ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType }).end(body),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
