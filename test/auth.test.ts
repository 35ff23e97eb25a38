import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { Accounts } from '../src/auth/accounts.js';
import { buildApp } from '../src/http/app.js';
import { operations } from '../src/http/operation-table.js';
import { apiOf, login, loginHeaders, provision, startApi, testConfig, type Credentials, type RunningApi } from './support/api.js';
import { backends } from './support/backends.js';
import { group } from './support/records.js';

const REDIS_URL = process.env.VBAPI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisDown = await (async () => {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
    return false;
  } catch (error) {
    return (error as Error).message || 'unreachable';
  } finally {
    redis.disconnect();
  }
})();
if (redisDown) {
  if (process.env.CI === 'true') throw new Error(`Redis at ${REDIS_URL} is unreachable (${redisDown}): required when CI=true`);
  console.warn(`\n!!! Redis at ${REDIS_URL} is unreachable (${redisDown}): SKIPPING the shared rate-limit tests. !!!\n`);
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

for (const backend of backends) {
  describe(`security on ${backend.name}`, { skip: backend.skip }, () => {
    let api: RunningApi;
    let other: Credentials; // another client, with its own key and user
    let multi: Credentials; // a user of the first client granted two databases
    before(async () => {
      api = await startApi(backend);
      other = await provision(api.store, 'other-client', 'other-db', 'olga');
      await api.store.createDatabase('second');
      multi = { ...api.credentials, username: 'multi', password: 'multi-password' };
      await new Accounts(api.store.registry).createUser(multi.clientId, multi.username, multi.password, ['test', 'second']);
    });
    after(async () => api?.stop());

    /** A real HTTP request with no User-Agent at all (injected requests always get a default one). */
    async function withoutUserAgent(method: string, path: string, headers: Record<string, string>) {
      const address = api.app.server.listening ? api.app.listeningOrigin : await api.app.listen({ host: '127.0.0.1', port: 0 });
      return new Promise<{ status: number; json: { error: { detail: string } } }>((resolve, reject) => {
        const request = httpRequest(`${address}${path}`, { method, headers }, (response) => {
          let body = '';
          response.on('data', (chunk) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode!, json: JSON.parse(body) }));
        });
        request.on('error', reject);
        request.end();
      });
    }

    const loginAs = (credentials: Credentials, headers: Record<string, string | undefined> = {}) =>
      api.request('POST', '/user-authentication', { headers: { ...loginHeaders(credentials), ...headers } });

    /** The 401 every credential failure answers: same status, same detail, the envelope. */
    async function assertUnauthorized(answer: Awaited<ReturnType<RunningApi['get']>>) {
      assert.equal(answer.status, 401, answer.text);
      assert.equal(answer.json.data, null);
      assert.equal(answer.json.error.detail, 'Missing or invalid credentials');
      assert.equal(answer.headers['x-activity-id'], answer.json.debug.activityID);
    }

    describe('POST /user-authentication', () => {
      test('a body of a type the server does not parse is a 415, and the document lists 415 for login', async () => {
        const answer = await api.request('POST', '/user-authentication', {
          raw: 'user=x',
          headers: { ...loginHeaders(api.credentials), 'content-type': 'text/plain' },
        });
        assert.equal(answer.status, 415, answer.text);
        assert.equal(answer.json.error.status, 415);
        const spec = operations.find((operation) => operation.operationId === 'UserAuthentication');
        assert.ok(spec && 415 in spec.responses);
      });

      test('the happy path returns signed tokens in the vendor shape', async () => {
        const answer = await loginAs(api.credentials);
        assert.equal(answer.status, 200);
        const { challengeName, session, authenticationResult } = answer.json.data;
        assert.equal(challengeName, null);
        assert.equal(session, null);
        assert.deepEqual(Object.keys(authenticationResult).sort(), ['accessToken', 'expiresIn', 'idToken', 'refreshToken']);
        assert.equal(authenticationResult.expiresIn, 86_400);
        const header = JSON.parse(Buffer.from(authenticationResult.idToken.split('.')[0], 'base64url').toString());
        assert.equal(header.alg, 'HS256');
        const payload = claims(authenticationResult.idToken);
        assert.equal(payload.sub, 'tester');
        assert.equal(payload.client, 'test-client');
        assert.equal(payload.database, 'test');
        assert.equal(payload.iss, 'vbapi-server');
        assert.equal(payload.aud, 'vbapi');
        assert.equal((payload.exp as number) - (payload.iat as number), 86_400);
      });

      test('wrong password, unknown user, wrong client code, another client: one identical 401', async () => {
        const cases = [
          loginAs({ ...api.credentials, password: 'wrong password' }),
          loginAs({ ...api.credentials, username: 'nobody' }),
          loginAs({ ...api.credentials, clientCode: 'wrong-code' }),
          loginAs({ ...api.credentials, clientId: 'other-client' }),
          loginAs(api.credentials, { 'x-api-key': other.apiKey }),
          loginAs(other, { 'x-api-key': api.credentials.apiKey }),
          loginAs(api.credentials, { 'x-api-key': undefined }),
          loginAs(api.credentials, { 'x-api-key': 'vba_not-a-key' }),
          loginAs(api.credentials, { authorization: undefined }),
          loginAs(api.credentials, { authorization: 'Basic !!!' }),
          loginAs(api.credentials, { authorization: `Bearer ${api.token}` }),
        ];
        for (const answer of await Promise.all(cases)) await assertUnauthorized(answer);
      });

      test('a database the user was not granted → 403; none → 400; no User-Agent → 403', async () => {
        assert.equal((await loginAs(api.credentials, { 'vbasoftware-database': 'second' })).status, 403);
        assert.equal((await loginAs(api.credentials, { 'vbasoftware-database': 'other-db' })).status, 403);
        assert.equal((await loginAs(api.credentials, { 'vbasoftware-database': 'no-such-db' })).status, 403);
        assert.equal((await loginAs(api.credentials, { 'vbasoftware-database': undefined })).status, 400);
        assert.equal((await loginAs(api.credentials, { 'user-agent': '' })).status, 403);
        assert.equal((await withoutUserAgent('POST', '/user-authentication', loginHeaders(api.credentials))).status, 403);
        assert.equal((await loginAs(multi, { 'vbasoftware-database': 'second' })).status, 200);
      });
    });

    describe('every other route needs both credentials', () => {
      const read = (headers: Record<string, string | undefined>) => api.get('/groups/ANY', headers);

      test('the credentials the tests use work (404 for an unknown key, not 401)', async () => {
        assert.equal((await read({})).status, 404);
      });

      test('missing, invalid or revoked API key → 401', async () => {
        await assertUnauthorized(await read({ 'x-api-key': undefined }));
        await assertUnauthorized(await read({ 'x-api-key': '' }));
        await assertUnauthorized(await read({ 'x-api-key': `${api.credentials.apiKey}x` }));
        const accounts = new Accounts(api.store.registry);
        const spare = await accounts.createKey('test-client');
        assert.equal((await read({ 'x-api-key': spare.key })).status, 404, 'a second key of the same client works');
        await accounts.revokeKey(spare.id);
        await assertUnauthorized(await read({ 'x-api-key': spare.key }));
      });

      test('missing, empty, tampered, foreign, alg:none or refresh tokens → 401', async () => {
        const [header, payload, signature] = api.token.split('.') as [string, string, string];
        const forged = b64({ ...claims(api.token), sub: 'admin' });
        const refresh = (await loginAs(api.credentials)).json.data.authenticationResult.refreshToken;
        const foreignApp = await buildApp({ store: api.store, config: testConfig({ jwtSecret: 'x'.repeat(32) }) });
        const foreign = await login(foreignApp, api.credentials);
        await foreignApp.close();
        for (const authorization of [
          undefined,
          '',
          'Bearer ',
          'Bearer',
          `Basic ${api.token}`,
          `Bearer ${header}.${forged}.${signature}`,
          `Bearer ${header}.${payload}.${signature.slice(0, -2)}AA`,
          `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`,
          `Bearer ${b64({ alg: 'HS512', typ: 'JWT' })}.${payload}.${signature}`,
          `Bearer ${foreign}`,
          `Bearer ${refresh}`,
          'Bearer not.a.jwt',
        ]) {
          await assertUnauthorized(await read({ authorization }));
        }
      });

      test('a valid token in another spelling (padding, unused bits flipped, other alphabet) → 401', async () => {
        const [header, payload, signature] = api.token.split('.') as [string, string, string];
        /** The same bytes, spelled differently: the last character with its unused low bits changed. */
        const flipLowBits = (segment: string) => {
          const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
          const last = alphabet.indexOf(segment.at(-1)!);
          const unused = (6 - ((Buffer.from(segment, 'base64url').length * 8) % 6)) % 6;
          assert.ok(unused > 0, 'the segment has unused bits');
          const flipped = `${segment.slice(0, -1)}${alphabet[last ^ 1]}`;
          assert.deepEqual(Buffer.from(flipped, 'base64url'), Buffer.from(segment, 'base64url'), 'same bytes');
          return flipped;
        };
        assert.equal((await read({ authorization: `Bearer ${api.token}` })).status, 404, 'the canonical spelling works');
        for (const token of [
          `${api.token}=`,
          `${header}.${payload}.${signature}==`,
          `${header}=.${payload}.${signature}`,
          `${header}.${payload}.${flipLowBits(signature)}`,
          ...(Buffer.from(payload, 'base64url').length % 3 ? [`${header}.${flipLowBits(payload)}.${signature}`] : []),
          `${header}.${payload}.${Buffer.from(signature, 'base64url').toString('base64')}`,
        ]) {
          assert.notEqual(token, api.token);
          await assertUnauthorized(await read({ authorization: `Bearer ${token}` }));
        }
      });

      test('an API key of another client than the token → 401', async () => {
        await assertUnauthorized(await read({ 'x-api-key': other.apiKey }));
        const otherToken = await login(api.app, other);
        await assertUnauthorized(await read({ authorization: `Bearer ${otherToken}` }));
        await assertUnauthorized(await read({ authorization: `Bearer ${otherToken}`, 'vbasoftware-database': 'other-db' }));
        const own = await read({ authorization: `Bearer ${otherToken}`, 'x-api-key': other.apiKey, 'vbasoftware-database': 'other-db' });
        assert.equal(own.status, 404);
      });

      test('another database than the token was minted for → 403, even one the user may use', async () => {
        const token = await login(api.app, multi);
        const answer = await read({ authorization: `Bearer ${token}`, 'vbasoftware-database': 'second' });
        assert.equal(answer.status, 403);
        assert.equal(answer.json.error.detail, 'You may not use this database');
        assert.equal((await read({ 'vbasoftware-database': 'other-db' })).status, 403);
        const secondToken = (await loginAs(multi, { 'vbasoftware-database': 'second' })).json.data.authenticationResult.idToken;
        assert.equal((await read({ authorization: `Bearer ${secondToken}`, 'vbasoftware-database': 'second' })).status, 404);
      });

      test('a missing or empty User-Agent → 403', async () => {
        const missing = await withoutUserAgent('GET', '/groups/ANY', {
          'x-api-key': api.credentials.apiKey,
          authorization: `Bearer ${api.token}`,
          'vbasoftware-database': 'test',
        });
        for (const answer of [missing, await read({ 'user-agent': '' }), await read({ 'user-agent': '   ' })]) {
          assert.equal(answer.status, 403);
          assert.equal(answer.json.error.detail, 'A User-Agent header is required');
        }
      });

      test('credentials are checked before the body is read or anything is written', async () => {
        const answer = await api.put('/groups-batch', [group('NOAUTH')], { authorization: undefined });
        await assertUnauthorized(answer);
        assert.equal((await api.get('/groups/NOAUTH')).status, 404);
      });

      test('the audit fields carry the authenticated username', async () => {
        const token = await login(api.app, multi);
        await api.put('/groups-batch', [group('WHO')]);
        await api.put('/groups-batch', [group('WHO', { name: 'changed' })], { authorization: `Bearer ${token}` });
        const record = (await api.get('/groups/WHO')).json.data;
        assert.deepEqual([record.entry_User, record.update_User], ['tester', 'multi']);
      });
    });

    describe('tokens', () => {
      test('expire after the configured lifetime', async () => {
        const shortLived = await buildApp({ store: api.store, config: testConfig({ tokenLifetimeSeconds: 1 }) });
        try {
          const token = await login(shortLived, api.credentials);
          const client = apiOf(shortLived, api.store, { apiKey: api.credentials.apiKey, token });
          assert.equal((await client.get('/groups/ANY')).status, 404);
          await new Promise((resolve) => setTimeout(resolve, 2100));
          await assertUnauthorized(await client.get('/groups/ANY'));
        } finally {
          await shortLived.close();
        }
      });

      test('survive a restart: the generated signing key is kept in the store', async () => {
        const restarted = await buildApp({ store: api.store, config: testConfig() });
        try {
          const client = apiOf(restarted, api.store, { apiKey: api.credentials.apiKey, token: api.token });
          assert.equal((await client.get('/groups/ANY')).status, 404);
        } finally {
          await restarted.close();
        }
      });
    });

    describe('rate limit per API key', () => {
      test('in-process: a burst, then 429 with Retry-After in the envelope; other keys are unaffected', async () => {
        const limited = await buildApp({ store: api.store, config: testConfig({ rateLimit: { perSecond: 0.5, burst: 3 } }) });
        try {
          const token = await login(limited, api.credentials); // takes one token
          const client = apiOf(limited, api.store, { apiKey: api.credentials.apiKey, token });
          assert.equal((await client.get('/groups/ANY')).status, 404);
          assert.equal((await client.get('/groups/ANY')).status, 404);
          const over = await client.get('/groups/ANY');
          assert.equal(over.status, 429);
          assert.equal(over.json.error.status, 429);
          assert.ok(Number(over.headers['retry-after']) >= 1);
          const otherToken = await login(limited, other);
          assert.equal((await apiOf(limited, api.store, { apiKey: other.apiKey, token: otherToken, database: 'other-db' }).get('/groups/ANY')).status, 404);
        } finally {
          await limited.close();
        }
      });

      test('with Redis: instances share one bucket per key', { skip: redisDown ? `Redis unreachable: ${redisDown}` : false }, async () => {
        const accounts = new Accounts(api.store.registry);
        const { key } = await accounts.createKey('test-client'); // a fresh key: a fresh bucket
        const config = testConfig({ rateLimit: { perSecond: 0.5, burst: 4 }, redisUrl: REDIS_URL });
        const [one, two] = [await buildApp({ store: api.store, config }), await buildApp({ store: api.store, config })];
        try {
          const token = await login(one, { ...api.credentials, apiKey: key });
          const [a, b] = [apiOf(one, api.store, { apiKey: key, token }), apiOf(two, api.store, { apiKey: key, token })];
          assert.equal((await b.get('/groups/ANY')).status, 404);
          assert.equal((await a.get('/groups/ANY')).status, 404);
          assert.equal((await b.get('/groups/ANY')).status, 404);
          const over = await a.get('/groups/ANY');
          assert.equal(over.status, 429);
          assert.ok(Number(over.headers['retry-after']) >= 1);
          assert.equal((await b.get('/groups/ANY')).status, 429);
        } finally {
          await one.close();
          await two.close();
        }
      });
    });
  });
}
