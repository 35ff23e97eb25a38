import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../src/http/app.js';
import { apiOf, login, provision, startApi, testConfig, type Api, type RunningApi } from './support/api.js';
import { backends, openStore } from './support/backends.js';
import { category, group } from './support/records.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

for (const backend of backends) {
  describe(`HTTP conventions on ${backend.name}`, { skip: backend.skip }, () => {
    let api: RunningApi;
    before(async () => {
      api = await startApi(backend);
      await api.put('/groups-batch', [group('G 1'), group('G+1'), group('G/1'), group('Ünï ✓')]);
    });
    after(async () => api?.stop());

    /** Asserts the contract's failure envelope and returns its problem details. */
    function assertProblem(answer: Awaited<ReturnType<Api['get']>>, status: number, instance: string) {
      assert.equal(answer.status, status, answer.text);
      assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(answer.json.data, null);
      assert.match(answer.json.debug.activityID, UUID);
      assert.equal(answer.headers['x-activity-id'], answer.json.debug.activityID);
      const error = answer.json.error;
      assert.equal(error.status, status);
      assert.equal(error.instance, instance);
      assert.equal(typeof error.title, 'string');
      assert.equal(typeof error.type, 'string');
      assert.ok(error.detail.length > 0);
      return error;
    }

    test('GET /healthz answers the envelope, at the root and under /vbasoftware', async () => {
      for (const path of ['/healthz', '/vbasoftware/healthz']) {
        const answer = await api.get(path, { 'vbasoftware-database': undefined });
        assert.equal(answer.status, 200);
        assert.deepEqual(answer.json.data, { status: 'ok' });
        assert.equal(answer.json.error, null);
        assert.match(answer.json.debug.activityID, UUID);
      }
    });

    test('every answer is application/json with a fresh activityID, also in x-activity-id', async () => {
      const ids = new Set<string>();
      for (let index = 0; index < 5; index++) {
        const answer = await api.get('/groups/G%201', { accept: 'text/plain' });
        assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8');
        assert.equal(answer.headers['x-activity-id'], answer.json.debug.activityID);
        ids.add(answer.json.debug.activityID);
      }
      assert.equal(ids.size, 5);
    });

    test('the /vbasoftware alias serves the same resources', async () => {
      const answer = await api.put('/vbasoftware/benefit-categories-batch', [category('ALIAS')]);
      assert.equal(answer.status, 207);
      assert.equal((await api.get('/benefit-categories/ALIAS')).status, 200);
      assert.equal((await api.get('/vbasoftware/benefit-categories/ALIAS')).json.data.benefit_Category, 'ALIAS');
    });

    describe('tenancy: vbasoftware-database', () => {
      test('missing or empty → 400', async () => {
        assertProblem(await api.get('/groups/G%201', { 'vbasoftware-database': undefined }), 400, '/groups/G%201');
        assertProblem(await api.put('/groups-batch', [], { 'vbasoftware-database': '' }), 400, '/groups-batch');
      });
      test('unknown, or not a possible name → 403 with one message for all', async () => {
        const details = new Set<string>();
        for (const name of ['nope', '../registry', 'test; DROP TABLE groups', 'TEST', 'a'.repeat(64), '%00', 'test\u00e9']) {
          const answer = await api.put('/groups-batch', [group('X')], { 'vbasoftware-database': name });
          details.add(assertProblem(answer, 403, '/groups-batch').detail);
        }
        assert.equal(details.size, 1);
        assert.equal((await api.get('/groups/X')).status, 404, 'nothing was written anywhere');
      });
    });

    describe('bodies', () => {
      test('not an array, or not JSON → 400 for the whole request', async () => {
        for (const raw of ['{}', '"groups"', '42', 'null', '{"group_ID": "A"}', '[{"group_ID": "A"},', 'not json', ' ']) {
          const error = assertProblem(await api.request('PUT', '/groups-batch', { raw }), 400, '/groups-batch');
          assert.match(error.detail, /JSON/);
        }
      });
      test('an empty body with Content-Type: application/json is no body', async () => {
        const put = await api.request('PUT', '/groups-batch', { raw: '' });
        assertProblem(put, 400, '/groups-batch');
        const get = await api.request('GET', '/groups/G%201', { raw: '' });
        assert.equal(get.status, 200);
      });
      test('text/json and application/*+json are accepted; other media types are a 415', async () => {
        for (const type of ['text/json', 'application/vnd.vba+json', 'application/json; charset=utf-8']) {
          const answer = await api.request('PUT', '/groups-batch', { raw: '[]', headers: { 'content-type': type } });
          assert.equal(answer.status, 207, type);
        }
        assertProblem(await api.request('PUT', '/groups-batch', { raw: '[]', headers: { 'content-type': 'text/plain' } }), 415, '/groups-batch');
      });
      test('too many records or too many bytes → 413 before anything is applied', async () => {
        const small = await buildApp({ store: api.store, config: testConfig({ maxBatchRecords: 3, maxBodyBytes: 4096 }) });
        try {
          const limited = apiOf(small, api.store, { apiKey: api.credentials.apiKey, token: api.token });
          const many = await limited.put('/groups-batch', ['L1', 'L2', 'L3', 'L4'].map((id) => group(id)));
          assert.match(assertProblem(many, 413, '/groups-batch').detail, /at most 3 records/);
          const big = await limited.put('/groups-batch', [group('L5', { notes: 'x'.repeat(5000) })]);
          assertProblem(big, 413, '/groups-batch');
          assert.equal((await api.get('/groups/L1')).status, 404);
          assert.equal((await api.get('/groups/L5')).status, 404);
        } finally {
          await small.close();
        }
      });
    });

    describe('GET one record', () => {
      test('keys are URL-decoded: + and %20 are a space, %2B a plus, %2F a slash', async () => {
        assert.equal((await api.get('/groups/G+1')).json.data.group_ID, 'G 1');
        assert.equal((await api.get('/groups/G%201')).json.data.group_ID, 'G 1');
        assert.equal((await api.get('/groups/G%2B1')).json.data.group_ID, 'G+1');
        assert.equal((await api.get('/groups/G%2F1')).json.data.group_ID, 'G/1');
        assert.equal((await api.get(`/groups/${encodeURIComponent('Ünï ✓')}`)).json.data.group_ID, 'Ünï ✓');
      });
      test('every field is present and required ones are never null', async () => {
        const record = (await api.get('/groups/G%201')).json.data;
        assert.equal(Object.keys(record).length, 98);
        assert.equal(record.admin_COBRA, false);
        assert.equal(record.account_Key, null);
      });
      test('an unknown key → 404 in the envelope, also for keys that could never exist', async () => {
        for (const key of ['NOPE', 'x'.repeat(21), '%00']) {
          assertProblem(await api.get(`/groups/${key}`), 404, `/groups/${key}`);
        }
        assertProblem(await api.get('/benefits/NOPE'), 404, '/benefits/NOPE');
        assertProblem(await api.get('/benefit-categories/NOPE'), 404, '/benefit-categories/NOPE');
      });
      test('a key that is not valid URL encoding → 400 in the envelope', async () => {
        for (const key of ['%E0%A4%A', '%ED%A0%80']) assertProblem(await api.get(`/groups/${key}`), 400, `/groups/${key}`);
      });
    });

    test('an unknown route → 404 in the envelope', async () => {
      assertProblem(await api.get('/no-such-thing'), 404, '/no-such-thing');
      assertProblem(await api.request('DELETE', '/groups-batch'), 404, '/groups-batch');
    });
  });
}

describe('shutting down', { skip: backends[0]!.skip }, () => {
  test('requests arriving while the server drains get a 503 in the envelope', async () => {
    const setup = await backends[0]!.prepare();
    const store = await openStore(setup);
    try {
      const credentials = await provision(store, 'drain', 'drain');
      const app = await buildApp({ store, config: testConfig() });
      let late: { status: number; connection: string | null; body: { error: { status: number } } } | undefined;
      // preClose hooks run in registration order, before the listener stops: the app's own hook
      // (which starts refusing) first, then this one, which sends a request as a late client would.
      app.addHook('preClose', async () => {
        const response = await fetch(`${address}/groups/ANY`, { headers });
        late = { status: response.status, connection: response.headers.get('connection'), body: (await response.json()) as never };
      });
      const token = await login(app, credentials);
      const headers = { 'user-agent': 'tests', 'x-api-key': credentials.apiKey, authorization: `Bearer ${token}`, 'vbasoftware-database': 'drain' };
      const address = await app.listen({ host: '127.0.0.1', port: 0 });
      assert.equal((await fetch(`${address}/groups/ANY`, { headers })).status, 404, 'served before closing');
      await app.close();
      assert.equal(late?.status, 503);
      assert.equal(late?.body.error.status, 503);
      assert.equal(late?.connection, 'close');
    } finally {
      await store.close();
      await setup.cleanup();
    }
  });
});
