import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp, type AppConfig } from '../src/http/app.js';
import { startApi, testConfig, type RunningApi } from './support/api.js';
import { backends } from './support/backends.js';
import { category, group } from './support/records.js';

const MiB = 1024 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `[{},{},…]`: 22,369,621 empty objects in exactly 64 MiB, the body that froze the server. */
function emptyObjects(bytes: number): Buffer {
  const count = Math.floor((bytes - 1) / 3);
  const body = Buffer.alloc(3 * count + 1);
  body.fill('{},', 1);
  body[0] = 0x5b; // [
  body[body.length - 1] = 0x5d; // ] in place of the last comma
  return body;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** Asserts the contract's failure envelope and returns its detail. */
function problem(answer: Answer, status: number): string {
  assert.equal(answer.status, status, JSON.stringify(answer.json));
  assert.equal(answer.json.data, null);
  assert.equal(answer.json.error.status, status);
  assert.match(answer.json.debug.activityID, UUID);
  return answer.json.error.detail as string;
}

for (const backend of backends) {
  describe(`request bodies on ${backend.name}`, { skip: backend.skip }, () => {
    let api: RunningApi;
    before(async () => {
      api = await startApi(backend);
    });
    after(async () => api?.stop());

    const credentials = () => ({
      'vbasoftware-database': 'test',
      'user-agent': 'body-tests',
      'x-api-key': api.credentials.apiKey,
      authorization: `Bearer ${api.token}`,
    });

    async function send(app: FastifyInstance, method: 'PUT' | 'POST', url: string, payload: Buffer | string, headers: Record<string, string> = {}): Promise<Answer> {
      const response = await app.inject({ method, url, payload, headers: { ...credentials(), 'content-type': 'application/json', ...headers } });
      return { status: response.statusCode, headers: response.headers, json: response.body ? JSON.parse(response.body) : undefined };
    }

    /** An app on the same store with other limits (the token stays valid: same registry). */
    async function withApp(config: Partial<AppConfig>, work: (app: FastifyInstance) => Promise<void>, logger?: pino.Logger) {
      const app = await buildApp({ store: api.store, config: testConfig(config), ...(logger ? { logger } : {}) });
      try {
        await work(app);
      } finally {
        await app.close();
      }
    }

    describe('count before you build', () => {
      test('a 64 MiB body of 22 million empty objects → 413 as it arrives, /healthz answering throughout', async () => {
        const base = api.app.server.listening ? api.app.listeningOrigin : await api.app.listen({ host: '127.0.0.1', port: 0 });
        const body = emptyObjects(64 * MiB);
        assert.equal(body.length, 64 * MiB);
        assert.deepEqual(JSON.parse(body.subarray(0, 31).toString().replace(/,$/, ']')), Array(10).fill({}));
        assert.equal(body.subarray(-6).toString(), '{},{}]');
        let done = false;
        const latencies: number[] = [];
        const probe = (async () => {
          while (!done) {
            const started = performance.now();
            assert.equal((await fetch(`${base}/healthz`)).status, 200);
            latencies.push(performance.now() - started);
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
        })();
        const started = performance.now();
        const response = await fetch(`${base}/benefit-categories-batch`, {
          method: 'PUT',
          headers: { ...credentials(), 'content-type': 'application/json' },
          body,
        });
        const elapsed = performance.now() - started;
        done = true;
        await probe;
        const answer = { status: response.status, headers: {}, json: await response.json() };
        // The records past the limit are counted a little way, then the rest is read unscanned.
        assert.match(problem(answer, 413), /^A batch may hold at most 10000 records; this one has more than \d+$/);
        // Before: the whole body was parsed first, freezing the process for 24-60 s. Generous margins for a loaded machine.
        assert.ok(elapsed < 20_000, `answered in ${Math.round(elapsed)} ms`);
        assert.ok(latencies.length >= 3, `health probes during the upload: ${latencies.length}`);
        assert.ok(Math.max(...latencies) < 2_000, `slowest /healthz ${Math.round(Math.max(...latencies))} ms`);
        assert.equal((await api.get('/benefit-categories?pageSize=1')).json.data.length, 0, 'nothing applied');
      });

      test('the record limit keeps its wording; a batch at the limit is accepted', async () => {
        await withApp({ maxBatchRecords: 3 }, async (app) => {
          const over = await send(app, 'PUT', '/benefit-categories-batch', JSON.stringify(['C1', 'C2', 'C3', 'C4'].map((name) => category(name))));
          assert.equal(problem(over, 413), 'A batch may hold at most 3 records; this one has 4');
          const at = await send(app, 'PUT', '/benefit-categories-batch', JSON.stringify(['C1', 'C2', 'C3'].map((name) => category(name))));
          assert.equal(at.status, 207);
          assert.deepEqual(at.json.data.map((entry: { status: number }) => entry.status), [201, 201, 201]);
        });
      });

      test('values nested inside records count too: neither a batch nor a single record can explode', async () => {
        const nested = (count: number) => Array.from({ length: count }, () => ({}));
        await withApp({ maxBatchRecords: 3 }, async (app) => {
          // 3 records may hold 3 × 128 values.
          const batch = await send(app, 'PUT', '/groups-batch', JSON.stringify([group('V1', { extra: nested(400) })]));
          assert.match(problem(batch, 413), /more than 384 JSON values/);
        });
        const single = await send(api.app, 'PUT', '/groups/V2', JSON.stringify(group('V2', { extra: nested(2_000_000) })));
        assert.match(problem(single, 413), /more than 1024 JSON values/);
        const post = await send(api.app, 'POST', '/groups', JSON.stringify(group('V3', { extra: nested(2000) })));
        assert.match(problem(post, 413), /JSON values/);
        // A real record with every field, plus a few unknown ones, is untouched by the count.
        const fine = await send(api.app, 'POST', '/groups', JSON.stringify(group('V4', { extra: nested(20), notes: 'ok' })));
        assert.equal(fine.status, 200, JSON.stringify(fine.json));
        assert.equal((await api.get('/groups/V1')).status, 404);
        assert.equal((await api.get('/groups/V2')).status, 404);
      });
    });

    describe('in-flight body budget', () => {
      test('past VBAPI_MAX_INFLIGHT_BODY_BYTES a request waits, then gets 503 with Retry-After; the one holding it is served', async () => {
        await withApp({ maxInflightBodyBytes: MiB }, async (app) => {
          const base = await app.listen({ host: '127.0.0.1', port: 0 });
          const { port } = new URL(base);
          // The first request announces 1 MiB and sends it slowly: it holds the whole budget.
          const holderBody = Buffer.alloc(MiB, ' ');
          holderBody[0] = 0x5b;
          holderBody[MiB - 1] = 0x5d;
          const holder = new Promise<Answer>((resolve, reject) => {
            const request = httpRequest(
              { port, method: 'PUT', path: '/groups-batch', headers: { ...credentials(), 'content-type': 'application/json', 'content-length': MiB } },
              (response) => {
                let text = '';
                response.on('data', (chunk) => (text += chunk));
                response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, json: JSON.parse(text) }));
              },
            );
            request.on('error', reject);
            request.write(holderBody.subarray(0, 1000));
            setTimeout(() => request.end(holderBody.subarray(1000)), 3_000);
          });
          await new Promise((resolve) => setTimeout(resolve, 200));
          // A client that gives up while it waits for room (and is granted room after it left) must not keep any.
          setTimeout(() => {
            const quitter = httpRequest({ port, method: 'PUT', path: '/groups-batch', headers: { ...credentials(), 'content-type': 'application/json', 'content-length': MiB } });
            quitter.on('error', () => {});
            quitter.write('[');
            setTimeout(() => quitter.destroy(), 300);
          }, 1_300);
          const started = performance.now();
          const response = await fetch(`${base}/groups-batch`, {
            method: 'PUT',
            headers: { ...credentials(), 'content-type': 'application/json' },
            body: Buffer.from(`[${' '.repeat(MiB - 2)}]`),
          });
          const refused = { status: response.status, headers: Object.fromEntries(response.headers), json: await response.json() };
          assert.match(problem(refused, 503), /too many request bodies/);
          assert.equal(refused.headers['retry-after'], '1');
          assert.ok(performance.now() - started >= 1_500, 'it waited for room first');
          const served = await holder;
          assert.equal(served.status, 207);
          assert.deepEqual(served.json.data, []);
          // The budget is free again: nothing leaked by the refused request or the one that gave up.
          await new Promise((resolve) => setTimeout(resolve, 500));
          assert.equal((await send(app, 'PUT', '/groups-batch', JSON.stringify([group('B1')]))).status, 207);
        });
      });
    });

    describe('Content-Encoding', () => {
      const batch = JSON.stringify([category('ZIP1'), category('ZIP2')]);
      test('gzip, x-gzip, deflate, br and identity bodies are decoded', async () => {
        const encoded: [string, Buffer][] = [
          ['gzip', gzipSync(batch)],
          ['x-gzip', gzipSync(batch)],
          ['deflate', deflateSync(batch)],
          ['br', brotliCompressSync(batch)],
          ['identity', Buffer.from(batch)],
          ['GZIP', gzipSync(batch)],
        ];
        for (const [encoding, payload] of encoded) {
          const answer = await send(api.app, 'PUT', '/benefit-categories-batch', payload, { 'content-encoding': encoding });
          assert.equal(answer.status, 207, `${encoding}: ${JSON.stringify(answer.json)}`);
          assert.equal(answer.json.data.length, 2);
        }
        assert.equal((await api.get('/benefit-categories/ZIP2')).status, 200);
        const single = await send(api.app, 'POST', '/groups', gzipSync(JSON.stringify(group('GZ1'))), { 'content-encoding': 'gzip' });
        assert.equal(single.status, 200);
      });

      test('plain JSON labelled gzip → 400; an unknown encoding → 415', async () => {
        assert.match(problem(await send(api.app, 'PUT', '/benefit-categories-batch', batch, { 'content-encoding': 'gzip' }), 400), /not valid gzip/);
        assert.match(problem(await send(api.app, 'PUT', '/benefit-categories-batch', batch, { 'content-encoding': 'br' }), 400), /not valid br/);
        for (const encoding of ['compress', 'zstd', 'gzip, br']) {
          assert.match(problem(await send(api.app, 'PUT', '/benefit-categories-batch', gzipSync(batch), { 'content-encoding': encoding }), 415), /Content-Encoding/);
        }
      });

      test('a zip bomb → 413 quickly: the decoded size and the records are counted as they inflate', async () => {
        // gzip members concatenate: 1 MiB of spaces compresses to about 1 KiB; 300 of them inflate to 300 MiB.
        const spaces = gzipSync(Buffer.alloc(MiB, ' '), { level: 9 });
        const bomb = Buffer.concat([gzipSync('['), ...Array.from({ length: 300 }, () => spaces), gzipSync(']')]);
        assert.ok(bomb.length < 400 * 1024);
        let started = performance.now();
        assert.match(problem(await send(api.app, 'PUT', '/benefit-categories-batch', bomb, { 'content-encoding': 'gzip' }), 413), /at most 67108864 bytes/);
        assert.ok(performance.now() - started < 10_000);
        // 16 MiB of `{},` a member (5,592,405 objects): millions of records from a few kilobytes.
        const objects = gzipSync(Buffer.alloc(3 * 5_592_405, '{},'), { level: 9 });
        const records = Buffer.concat([gzipSync('['), objects, objects, gzipSync('{}]')]);
        started = performance.now();
        assert.match(problem(await send(api.app, 'PUT', '/benefit-categories-batch', records, { 'content-encoding': 'gzip' }), 413), /at most 10000 records; this one has more than \d+$/);
        assert.ok(performance.now() - started < 10_000);
      });
    });

    describe('media types', () => {
      test("curl's default type, or none, → 415 saying that JSON is expected", async () => {
        for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x']) {
          const detail = problem(await send(api.app, 'PUT', '/groups-batch', '[]', { 'content-type': type }), 415);
          assert.match(detail, /Send the body as JSON: Content-Type: application\/json/);
          assert.ok(detail.includes(type.split(';')[0]!), detail);
        }
        const untyped = await api.app.inject({ method: 'PUT', url: '/groups-batch', payload: '[]', headers: credentials() });
        assert.match(problem({ status: untyped.statusCode, headers: untyped.headers, json: JSON.parse(untyped.body) }, 415), /Content-Type: application\/json/);
      });
    });

    describe('aborted uploads', () => {
      test('a client that goes away mid-body is logged as a client abort at debug, not as a database fault', async () => {
        const lines: { level: number; msg: string }[] = [];
        const sink = new Writable({
          write(chunk, _encoding, callback) {
            for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
            callback();
          },
        });
        await withApp({}, async (app) => {
          const base = await app.listen({ host: '127.0.0.1', port: 0 });
          const { port } = new URL(base);
          await new Promise<void>((resolve) => {
            const request = httpRequest({
              port,
              method: 'PUT',
              path: '/groups-batch',
              headers: { ...credentials(), 'content-type': 'application/json', 'content-length': MiB },
            });
            request.on('error', () => resolve());
            request.write(`[${' '.repeat(64 * 1024)}`);
            setTimeout(() => {
              request.destroy();
              resolve();
            }, 300);
          });
          await new Promise((resolve) => setTimeout(resolve, 500));
        }, pino({ level: 'debug' }, sink));
        const messages = lines.map((line) => `${line.level} ${line.msg}`);
        assert.ok(!messages.some((message) => /database unavailable/.test(message)), messages.join('\n'));
        assert.ok(!lines.some((line) => line.level >= 40), messages.join('\n'));
        assert.ok(lines.some((line) => line.level === 20 && /client closed the connection/.test(line.msg)), messages.join('\n'));
      });
    });
  });
}
