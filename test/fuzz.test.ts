import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../src/http/app.js';
import { startApi, testConfig, type RunningApi } from './support/api.js';
import { backends } from './support/backends.js';
import { group } from './support/records.js';

/**
 * Hostile input: thousands of generated malformed bodies, headers, keys and query strings, deep
 * and huge JSON. Never a 5xx, never a hang; every answer is the envelope. A seeded generator keeps
 * failures reproducible (FUZZ_SEED, FUZZ_CASES to change them).
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261121);
const CASES = Number(process.env.FUZZ_CASES ?? 1500);

function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}

const NASTY_STRINGS = ['', ' ', '\u0000', '\ud800', '😀', 'é', '%', '%00', '%zz', '+', '../', '"', "'", '\\', '{', '[', 'null', 'true', '-1', '1e309', 'x'.repeat(300), '\u202e', '\r\n', '<script>'];

function value(random: ReturnType<typeof generator>, depth = 0): unknown {
  switch (random.int(depth > 3 ? 6 : 9)) {
    case 0: return null;
    case 1: return random.next() < 0.5;
    case 2: return random.pick([0, -1, 2 ** 31, -(2 ** 31) - 1, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER + 2]);
    case 3: return random.pick(NASTY_STRINGS);
    case 4: return random.pick(NASTY_STRINGS).repeat(random.int(40));
    case 5: return `2024-${random.int(15)}-${random.int(35)}T${random.int(30)}:00:00Z`;
    case 6: return Array.from({ length: random.int(4) }, () => value(random, depth + 1));
    case 7: return Object.fromEntries(Array.from({ length: random.int(4) }, () => [random.pick(['group_ID', 'name', '__proto__', 'constructor', 'x']), value(random, depth + 1)]));
    default: return group(random.pick(NASTY_STRINGS).slice(0, 20) || 'F', { [random.pick(['name', 'adult_Age', 'admin_COBRA', 'caseRate', 'disenroll_Date', 'notes'])]: value(random, depth + 1) });
  }
}

const PATHS = ['/groups-batch', '/benefits-batch', '/benefit-categories-batch', '/groups', '/benefits', '/benefit-categories', '/groups/X', '/benefits/%zz', '/groups/%00', '/user-authentication', '/vbasoftware/groups-batch', '/nope', '/groups/a%2Fb', '/healthz', '/readyz', '/openapi.json'];
const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];

for (const backend of backends) {
  describe(`hostile input on ${backend.name}`, { skip: backend.skip }, () => {
    let api: RunningApi;
    before(async () => {
      api = await startApi(backend, { maxBodyBytes: 256 * 1024, maxBatchRecords: 100, maxJsonDepth: 16 });
    });
    after(async () => api?.stop());

    async function send(method: string, url: string, headers: Record<string, string | undefined>, payload?: string) {
      const response = await api.app.inject({
        method: method as 'GET',
        url,
        headers: { 'user-agent': 'fuzz', 'x-api-key': api.credentials.apiKey, authorization: `Bearer ${api.token}`, 'vbasoftware-database': 'test', ...headers } as Record<string, string>,
        ...(payload === undefined ? {} : { payload }),
      });
      const what = `${method} ${url} ${JSON.stringify(headers).slice(0, 200)} ${String(payload).slice(0, 200)}`;
      assert.ok(response.statusCode < 500, `${response.statusCode} for ${what}: ${response.body.slice(0, 300)}`);
      if (response.statusCode !== 204 && method !== 'HEAD' && method !== 'OPTIONS' && !url.startsWith('/openapi')) {
        const body = JSON.parse(response.body);
        assert.ok('data' in body && 'error' in body && typeof body.debug?.activityID === 'string', `not the envelope for ${what}`);
        if (response.statusCode >= 400) assert.equal(body.error.status, response.statusCode);
      }
      return response.statusCode;
    }

    test(`${CASES} generated requests: never a 5xx, always the envelope`, async () => {
      const random = generator(SEED);
      const seen = new Map<number, number>();
      for (let index = 0; index < CASES; index++) {
        const method = random.pick(METHODS);
        const path = random.pick(PATHS);
        const raw = String(random.pick(NASTY_STRINGS));
        // Encoded (lone surrogates become U+FFFD on the way), or sent as it is, `%zz` and all.
        const text = random.next() < 0.5 ? encodeURIComponent(Buffer.from(raw).toString()) : raw.replace(/[\s#\u0000-\u001f]/g, '');
        const query = random.next() < 0.3 ? `?${random.pick(['page', 'pageSize', 'sortBy', 'benefitCategory'])}=${text}` : '';
        const headers: Record<string, string | undefined> = {};
        if (random.next() < 0.15) headers['content-type'] = random.pick(['text/plain', 'application/json; charset=latin1', 'application/xml', 'multipart/form-data', 'application/x+json', '']);
        if (random.next() < 0.1) headers['x-api-key'] = random.pick(['', 'vba_x', api.credentials.apiKey + ' ']);
        if (random.next() < 0.1) headers.authorization = random.pick(['', 'Bearer', 'Bearer a.b.c', 'Basic ::', `Bearer ${api.token}x`]);
        if (random.next() < 0.1) headers['vbasoftware-database'] = random.pick(['', 'TEST', '../data', 'test\u0000']).replace('\u0000', '');
        if (random.next() < 0.05) headers['user-agent'] = '';
        let payload: string | undefined;
        if (method === 'PUT' || method === 'POST' || random.next() < 0.1) {
          headers['content-type'] ??= 'application/json';
          const shape = random.int(6);
          payload =
            shape === 0 ? JSON.stringify(Array.from({ length: random.int(8) }, () => value(random)))
            : shape === 1 ? JSON.stringify(value(random))
            : shape === 2 ? JSON.stringify(Array.from({ length: random.int(8) }, () => value(random))).slice(0, random.int(200))
            : shape === 3 ? random.pick(['', ' ', '[', '[]]', '{"a":}', 'nul', '\u0000', '[1,]', '"\\ud800"', '[{"group_ID":"\\u0000"}]'])
            : shape === 4 ? `[${'['.repeat(random.int(40))}${']'.repeat(random.int(40))}]`
            : JSON.stringify([group(`FZ${index}`), { ...group(`FZ${index}`), name: random.pick(NASTY_STRINGS) }]);
        }
        const status = await send(method, `${path}${query}`, headers, payload);
        seen.set(status, (seen.get(status) ?? 0) + 1);
      }
      // The generator reaches the interesting answers, not only one kind of refusal.
      for (const status of [200, 207, 400, 401, 403, 404]) assert.ok(seen.get(status), `no ${status} among ${JSON.stringify([...seen])}`);
    });

    test('deep, huge and many: refused with a clear 4xx (400 too deep, 413 too big or too many)', async () => {
      const deep = `[${'['.repeat(100_000)}${']'.repeat(100_000)}]`;
      assert.equal(await send('PUT', '/groups-batch', { 'content-type': 'application/json' }, deep), 400);
      const deeper = `[${'['.repeat(200_000)}${']'.repeat(200_000)}]`;
      assert.equal(await send('PUT', '/groups-batch', { 'content-type': 'application/json' }, deeper), 413);
      const nested = `[${JSON.stringify({ ...group('DEEP'), name: JSON.parse(`${'['.repeat(20)}${']'.repeat(20)}`) })}]`;
      assert.equal(await send('PUT', '/groups-batch', { 'content-type': 'application/json' }, nested), 400);
      assert.equal(await send('PUT', '/groups/DEEP', { 'content-type': 'application/json' }, JSON.stringify({ ...group('DEEP'), group_ID: JSON.parse(`${'['.repeat(15)}${']'.repeat(15)}`) })), 400);
      assert.equal(await send('PUT', '/groups-batch', { 'content-type': 'application/json' }, JSON.stringify(Array.from({ length: 101 }, (_, index) => group(`N${index}`)))), 413);
      assert.equal(await send('PUT', '/groups-batch', { 'content-type': 'application/json' }, `["${'x'.repeat(300 * 1024)}"]`), 413);
    });

    test('oversized headers and malformed HTTP get the envelope from a real socket, and the server lives on', async () => {
      const base = await api.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = new URL(base);
      const raw = (text: string) =>
        new Promise<string>((resolve, reject) => {
          const socket = connect(Number(port), '127.0.0.1', () => socket.end(text));
          let answer = '';
          socket.on('data', (chunk: Buffer) => (answer += chunk));
          socket.on('close', () => resolve(answer));
          socket.on('error', reject);
        });
      const big = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
      assert.match(big, /^HTTP\/1\.1 431 /);
      assert.match(big, /"error":\{"type":"about:blank","title":"Request Header Fields Too Large","status":431/);
      const garbage = await raw('NOT HTTP AT ALL\r\n\r\n');
      assert.match(garbage, /^HTTP\/1\.1 400 /);
      assert.match(garbage, /"activityID":"/);
      const alive = await new Promise<number>((resolve) => httpRequest(`${base}/healthz`, (response) => resolve(response.statusCode!)).end());
      assert.equal(alive, 200);
    });

    test('a request that does not arrive in time gets a 408 in the envelope', async () => {
      const slow = await buildApp({ store: api.store, config: testConfig({ requestTimeoutMs: 1000 }) });
      try {
        const { port } = new URL(await slow.listen({ host: '127.0.0.1', port: 0 }));
        const started = performance.now();
        const answer = await new Promise<string>((resolve, reject) => {
          const socket = connect(Number(port), '127.0.0.1', () => socket.write('PUT /groups-batch HTTP/1.1\r\nHost: x\r\nUser-Agent: slow'));
          let text = '';
          socket.on('data', (chunk: Buffer) => (text += chunk));
          socket.on('close', () => resolve(text));
          socket.on('error', reject);
        });
        assert.match(answer, /^HTTP\/1\.1 408 /);
        assert.match(answer, /"status":408/);
        assert.ok(performance.now() - started < 5000);
      } finally {
        await slow.close();
      }
    });
  });
}
