import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { metricsServer } from '../src/http/metrics.js';
import { loginHeaders, startApi, type RunningApi } from './support/api.js';
import { backends } from './support/backends.js';
import { group } from './support/records.js';

type Family = { name: string; type: string; metrics: { value?: string; labels?: Record<string, string> }[] };

const TOKEN = 'metrics-token-for-tests-0123456789';

interface Scrape {
  readonly families: Family[];
  readonly text: string;
}

/**
 * The value of one series in a scrape; 0 when it does not exist yet. Counters and gauges are read
 * from the parsed families; a histogram's count from its `_count` line, because the parser drops
 * the labels of histogram series (prom-client prints them in the order the metric declares).
 */
function valueOf({ families, text }: Scrape, name: string, labels: Record<string, string> = {}): number {
  const family = families.find((candidate) => candidate.name === name);
  if (family?.type === 'HISTOGRAM') {
    const selector = Object.entries(labels).map(([key, value]) => `${key}="${value}"`).join(',');
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}_count{${selector}}`));
    return Number(line?.split(' ').at(-1) ?? 0);
  }
  const series = family?.metrics.find((metric) => Object.entries(labels).every(([key, value]) => metric.labels?.[key] === value));
  return Number(series?.value ?? 0);
}

describe('GET /metrics', () => {
  const backend = backends[0]!;
  let api: RunningApi;
  before(async () => {
    api = await startApi(backend, { metricsToken: TOKEN, rateLimit: { perSecond: 0.001, burst: 10 } });
  });
  after(() => api?.stop());

  const scrape = async (): Promise<Scrape> => {
    const response = await api.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    return { families: parsePrometheusTextFormat(response.body) as Family[], text: response.body };
  };

  test('needs its own bearer token (not an API key or a login token), answered in the envelope', async () => {
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${api.token}`, TOKEN]) {
      const response = await api.app.inject({ url: '/metrics', headers: authorization ? { authorization } : {} });
      assert.equal(response.statusCode, 401, String(authorization));
      assert.equal(JSON.parse(response.body).error.status, 401);
    }
  });

  test('a scrape parses and has the HTTP, batch, login, rate-limit, tenant, event-loop and memory metrics', async () => {
    const names = new Set((await scrape()).families.map((family) => family.name));
    for (const name of [
      'vbapi_http_request_duration_seconds',
      'vbapi_batch_records_total',
      'vbapi_logins_total',
      'vbapi_rate_limited_total',
      'vbapi_open_tenants',
      'vbapi_db_connections',
      'nodejs_eventloop_lag_seconds',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
    ]) {
      assert.ok(names.has(name), name);
    }
  });

  test('counters move: batch records by type and status, requests by route pattern, logins by outcome, 429s', async () => {
    const before = await scrape();
    const answer = await api.put('/groups-batch', [group('MET1'), group('MET2'), { group_ID: 'BAD' }]);
    assert.deepEqual(answer.json.data.map((entry: { status: number }) => entry.status), [201, 201, 400]);
    assert.equal((await api.put('/groups-batch', [group('MET1')])).json.data[0].status, 200);
    await api.get('/groups/MET1');
    await api.get('/groups/NOPE');
    const login = (headers: Record<string, string>) => api.app.inject({ method: 'POST', url: '/user-authentication', headers: { ...headers, 'user-agent': 'tests' } });
    assert.equal((await login(loginHeaders(api.credentials))).statusCode, 200);
    assert.equal((await login({ ...loginHeaders(api.credentials), authorization: `Basic ${Buffer.from('tester:wrong-password').toString('base64')}` })).statusCode, 401);
    let limited = 0;
    for (let attempt = 0; attempt < 6 && limited === 0; attempt++) if ((await api.get('/groups')).status === 429) limited++;
    assert.equal(limited, 1, 'the burst of 10 runs out');

    const now = await scrape();
    const moved = (name: string, labels: Record<string, string> = {}) => valueOf(now, name, labels) - valueOf(before, name, labels);
    assert.equal(moved('vbapi_batch_records_total', { type: 'group', status: '201' }), 2);
    assert.equal(moved('vbapi_batch_records_total', { type: 'group', status: '200' }), 1);
    assert.equal(moved('vbapi_batch_records_total', { type: 'group', status: '400' }), 1);
    assert.equal(moved('vbapi_http_request_duration_seconds', { route: '/groups-batch', method: 'PUT', status_code: '207' }), 2);
    // Route patterns, not raw URLs: two keys, one series per status.
    assert.equal(moved('vbapi_http_request_duration_seconds', { route: '/groups/:groupID', method: 'GET', status_code: '200' }), 1);
    assert.equal(moved('vbapi_http_request_duration_seconds', { route: '/groups/:groupID', method: 'GET', status_code: '404' }), 1);
    assert.doesNotMatch(now.text, /route="[^"]*MET1/);
    assert.equal(moved('vbapi_logins_total', { outcome: 'success' }), 1);
    assert.equal(moved('vbapi_logins_total', { outcome: 'unauthorized' }), 1);
    assert.equal(moved('vbapi_rate_limited_total'), 1);
    assert.ok(valueOf(now, 'vbapi_open_tenants') >= 1);
  });
});

test('without VBAPI_METRICS_TOKEN the API port has no /metrics; VBAPI_METRICS_PORT serves it alone, without a token', async () => {
  const api = await startApi(backends[0]!);
  try {
    assert.equal((await api.app.inject({ url: '/metrics' })).statusCode, 404);
  } finally {
    await api.stop();
  }
  const server = await metricsServer('127.0.0.1', 0);
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const scrape = await fetch(`${base}/metrics`);
    assert.equal(scrape.status, 200);
    const families = parsePrometheusTextFormat(await scrape.text()) as Family[];
    assert.ok(families.some((family) => family.name === 'vbapi_batch_records_total'));
    assert.equal((await fetch(`${base}/groups`)).status, 404);
  } finally {
    server.close();
  }
});
