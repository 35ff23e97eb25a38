import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Accounts } from '../src/auth/accounts.js';
import { loadConfig } from '../src/config.js';
import { buildApp, type AppConfig } from '../src/http/app.js';
import { apiOf, loginHeaders, provision, startApi, testConfig, type Credentials, type RunningApi } from './support/api.js';
import { backends } from './support/backends.js';

const defaults = loadConfig({});

/** POST /user-authentication on `app`; the answer's status, Retry-After and idToken. */
async function loginOn(app: FastifyInstance, credentials: Credentials) {
  const response = await app.inject({ method: 'POST', url: '/user-authentication', headers: { ...loginHeaders(credentials), 'user-agent': 'tests' } });
  const body = JSON.parse(response.body) as { data: { authenticationResult: { idToken: string } } | null; error: { status: number } | null };
  return { status: response.statusCode, retryAfter: response.headers['retry-after'], body };
}

/**
 * Wrong-password logins with `credentials`' key, one every `intervalMs` whatever the answers
 * (so they pile up concurrently when the server falls behind), until `stop` resolves.
 * In-process, so its own cost lands on the server's event loop: paced at 40/s (above the 25/s the
 * default key rate allows, and above what scrypt manages on 2 cores) rather than as fast as it can.
 */
async function flood(app: FastifyInstance, credentials: Credentials, intervalMs: number, stop: Promise<void>) {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const statuses = new Map<number, number>();
  const retryAfters: string[] = [];
  const pending: Promise<void>[] = [];
  while (!stopped) {
    pending.push(
      loginOn(app, { ...credentials, password: 'wrong password!' }).then((answer) => {
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.status === 429) retryAfters.push(String(answer.retryAfter));
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  await Promise.all(pending);
  return { statuses, retryAfters, sent: pending.length };
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work();
  return { value, ms: performance.now() - start };
}

for (const backend of backends) {
  describe(`logins cannot starve the server on ${backend.name}`, { skip: backend.skip }, () => {
    let api: RunningApi;
    let other: Credentials; // another client, logging in while the first one floods
    before(async () => {
      api = await startApi(backend);
      other = await provision(api.store, 'other-client', 'other-db', 'olga');
    });
    after(async () => api?.stop());

    /**
     * One key floods wrong-password logins (40/s, each a scrypt hash) for a while; meanwhile
     * another client logs in and uses its new token, which no one has verified yet. Before the fix,
     * every hash went straight to libuv's thread pool (the login waited behind the whole backlog,
     * ~3 s here) and so did jose's WebCrypto signature check of the token.
     */
    async function floodWhileAnotherClientWorks(config: Partial<AppConfig>) {
      const app = await buildApp({ store: api.store, config: testConfig(config) });
      try {
        // The same login on an idle server: on a loaded machine one scrypt alone can take 300 ms,
        // so "under a second" becomes "within a few hashes' time" (never behind the backlog).
        const idle = Math.min((await timed(() => loginOn(app, other))).ms, (await timed(() => loginOn(app, other))).ms);
        let stop!: () => void;
        const stopped = new Promise<void>((resolve) => (stop = resolve));
        const attack = flood(app, api.credentials, 25, stopped);
        await new Promise((resolve) => setTimeout(resolve, 2_000)); // let a backlog build up (~80 logins sent)
        const login = await timed(() => loginOn(app, other));
        assert.equal(login.value.status, 200, JSON.stringify(login.value.body));
        const token = login.value.body.data!.authenticationResult.idToken;
        const client = apiOf(app, api.store, { apiKey: other.apiKey, token, database: 'other-db' });
        const call = await timed(() => client.get('/groups/ANY'));
        assert.equal(call.value.status, 404);
        stop();
        const { statuses, retryAfters } = await attack;
        return { loginMs: login.ms, callMs: call.ms, statuses, retryAfters, allowedMs: Math.max(1_000, 8 * idle) };
      } finally {
        await app.close();
      }
    }

    test('with the default login rates: another client logs in and calls the API within a few hash durations (under a second when idle); the flood gets 429 + Retry-After', async () => {
      const result = await floodWhileAnotherClientWorks({ loginRate: defaults.loginRate, loginUserRate: defaults.loginUserRate });
      assert.ok(result.loginMs < result.allowedMs, `login took ${result.loginMs.toFixed(0)} ms (allowed ${result.allowedMs.toFixed(0)})`);
      assert.ok(result.callMs < 1_000, `the API call took ${result.callMs.toFixed(0)} ms`);
      assert.deepEqual([...result.statuses.keys()].sort(), [401, 429], JSON.stringify([...result.statuses]));
      assert.ok(result.retryAfters.every((value) => Number(value) >= 1), result.retryAfters.join());
    });

    test('with no login rate at all, the bounded fair hash queue alone keeps the other client fast; overflow → 429', async () => {
      const result = await floodWhileAnotherClientWorks({ loginRate: null, loginUserRate: null });
      assert.ok(result.loginMs < result.allowedMs, `login took ${result.loginMs.toFixed(0)} ms (allowed ${result.allowedMs.toFixed(0)})`);
      assert.ok(result.callMs < 1_000, `the API call took ${result.callMs.toFixed(0)} ms`);
      assert.deepEqual([...result.statuses.keys()].sort(), [401, 429], JSON.stringify([...result.statuses]));
    });

    test('per user: beyond its burst a username gets 429 with Retry-After in the envelope; another user of the client does not', async () => {
      const app = await buildApp({ store: api.store, config: testConfig({ loginRate: { perSecond: 100, burst: 100 }, loginUserRate: { perSecond: 0.2, burst: 2 } }) });
      try {
        const second = { ...api.credentials, username: 'second', password: 'second-password' };
        await new Accounts(api.store.registry).createUser(second.clientId, second.username, second.password, ['test']);
        assert.equal((await loginOn(app, api.credentials)).status, 200);
        assert.equal((await loginOn(app, { ...api.credentials, password: 'wrong password!' })).status, 401);
        const over = await loginOn(app, api.credentials);
        assert.equal(over.status, 429);
        assert.equal(over.body.error!.status, 429);
        assert.ok(Number(over.retryAfter) >= 1);
        assert.equal((await loginOn(app, second)).status, 200);
      } finally {
        await app.close();
      }
    });

    test('per client: all its users share one budget; other clients are unaffected', async () => {
      const app = await buildApp({ store: api.store, config: testConfig({ loginRate: { perSecond: 0.2, burst: 2 }, loginUserRate: null }) });
      try {
        assert.equal((await loginOn(app, api.credentials)).status, 200);
        assert.equal((await loginOn(app, { ...api.credentials, username: 'nobody' })).status, 401);
        const over = await loginOn(app, api.credentials);
        assert.equal(over.status, 429);
        assert.ok(Number(over.retryAfter) >= 1);
        assert.equal((await loginOn(app, other)).status, 200);
      } finally {
        await app.close();
      }
    });

    test('a full hash queue answers 429 at once instead of growing a backlog', async () => {
      const app = await buildApp({ store: api.store, config: testConfig({ passwordHashConcurrency: 1, passwordHashQueue: 4 }) });
      try {
        const answers = await Promise.all(Array.from({ length: 30 }, () => loginOn(app, { ...api.credentials, password: 'wrong password!' })));
        const statuses = answers.map((answer) => answer.status);
        assert.ok(statuses.every((status) => status === 401 || status === 429), statuses.join());
        // One running, at most a quarter of the line (1) waiting for this client: the rest refused.
        assert.ok(statuses.filter((status) => status === 401).length <= 3, statuses.join());
        assert.ok(answers.filter((answer) => answer.status === 429).every((answer) => Number(answer.retryAfter) >= 1));
        assert.equal((await loginOn(app, api.credentials)).status, 200, 'the queue drains: logins work again');
      } finally {
        await app.close();
      }
    });
  });
}
