import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Store } from '../src/store/store.js';
import { signedIn, type Api } from './support/api.js';
import { adminQuery, backends, quietLogger, type StoreSetup } from './support/backends.js';
import { group } from './support/records.js';
import { Store as StoreClass } from '../src/store/store.js';

/**
 * Many tenants on one PostgreSQL server: one connection budget per server for the registry and
 * every tenant pool together, a fair wait (not a failure) when it is short, 503 + Retry-After
 * after VBAPI_PG_ACQUIRE_TIMEOUT_MS, and idle tenants holding no connection.
 */
const postgres = backends[1]!;
const setups: StoreSetup[] = [];
after(async () => {
  for (const setup of setups) await setup.cleanup();
});

/** Connections to this setup's registry and tenant databases, as PostgreSQL counts them. */
async function connections(setup: StoreSetup): Promise<number> {
  const registry = decodeURIComponent(new URL(setup.config.databaseUrl!).pathname.slice(1));
  const [row] = await adminQuery<{ count: number }>(
    `SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = $1 OR datname LIKE $2`,
    [registry, `${registry}\\_\\_t%`],
  );
  return row!.count;
}

describe('PostgreSQL connection budget', { skip: postgres.skip }, () => {
  test('8 tenants under concurrent batches never exceed a budget of 4 connections; requests wait, none fail; idle tenants close', async () => {
    const setup = await postgres.prepare();
    setups.push(setup);
    const store: Store = await StoreClass.open(
      { ...setup.config, pgMaxConnections: 4, pgAcquireTimeoutMs: 120_000, tenantIdleSeconds: 2 },
      quietLogger,
    );
    const apis: Api[] = [];
    try {
      for (let tenant = 0; tenant < 8; tenant++) apis.push(await signedIn(store, `client-${tenant}`, `tenant-${tenant}`));
      let sampling = true;
      let peak = 0;
      let peakWaiting = 0;
      const sampler = (async () => {
        while (sampling) {
          peak = Math.max(peak, await connections(setup));
          peakWaiting = Math.max(peakWaiting, ...store.stats().pools.map((pool) => pool.waiting));
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      const results = await Promise.all(
        apis.flatMap((api, tenant) =>
          Array.from({ length: 4 }, async (_, writer) => {
            const records = Array.from({ length: 200 }, (_, index) => group(`T${tenant}W${writer}N${index}`));
            const answer = await api.put('/groups-batch', records);
            return { status: answer.status, created: (answer.json.data as { status: number }[]).filter((item) => item.status === 201).length };
          }),
        ),
      );
      sampling = false;
      await sampler;
      for (const result of results) assert.deepEqual(result, { status: 207, created: 200 });
      for (const api of apis) assert.equal((await api.get('/groups?pageSize=1')).headers['x-pagination'] !== undefined, true);
      console.log(`# peak connections ${peak} (budget 4), peak requests waiting ${peakWaiting}`);
      assert.ok(peak <= 4, `peak ${peak} connections over a budget of 4`);
      assert.ok(peakWaiting > 0, 'the load was meant to exceed the budget: some requests must have waited');

      // Idle for longer than VBAPI_TENANT_IDLE_SECONDS: every connection is given back.
      const deadline = Date.now() + 30_000;
      while ((await connections(setup)) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
      assert.equal(await connections(setup), 0, 'idle tenants still hold connections');
      assert.deepEqual(store.stats().pools.map(({ inUse, idle, waiting }) => ({ inUse, idle, waiting })), [{ inUse: 0, idle: 0, waiting: 0 }]);
      assert.equal((await apis[0]!.get('/groups?pageSize=1')).status, 200, 'an idle tenant answers again');
    } finally {
      for (const api of apis) await api.app.close();
      await store.close();
    }
  });

  test('no connection within VBAPI_PG_ACQUIRE_TIMEOUT_MS: 503 in the envelope with Retry-After', async () => {
    const setup = await postgres.prepare();
    setups.push(setup);
    const store = await StoreClass.open({ ...setup.config, pgMaxConnections: 2, pgAcquireTimeoutMs: 300 }, quietLogger);
    try {
      const api = await signedIn(store, 'client', 'busy');
      const tenant = (await store.tenant('busy'))!;
      let hold!: () => void;
      const held = new Promise<void>((resolve) => (hold = resolve));
      const holders = [0, 1].map(() => tenant.transaction(async (tx) => {
        await tx.query('SELECT 1');
        await held;
      }));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const answer = await api.get('/groups');
      hold();
      await Promise.all(holders);
      assert.equal(answer.status, 503);
      assert.match(String(answer.headers['retry-after']), /^\d+$/);
      assert.equal(answer.json.data, null);
      assert.match(answer.json.error.detail, /retry after \d+ s/);
      assert.equal((await api.get('/groups')).status, 200, 'served again once connections are free');
      await api.app.close();
    } finally {
      await store.close();
    }
  });
});

const embedded = backends[0]!;

describe('embedded tenants: a bounded number open', { skip: embedded.skip }, () => {
  test('at most VBAPI_MAX_OPEN_TENANTS open; closed tenants reopen with all their data, also under concurrent writes', async () => {
    const setup = await embedded.prepare();
    setups.push(setup);
    const store = await StoreClass.open({ ...setup.config, maxOpenTenants: 2 }, quietLogger);
    const apis: Api[] = [];
    try {
      for (let tenant = 0; tenant < 4; tenant++) apis.push(await signedIn(store, `client-${tenant}`, `tenant-${tenant}`));
      assert.ok(store.stats().openTenants <= 2, `open: ${store.stats().openTenants}`);
      let peakOpen = 0;
      const sampler = setInterval(() => (peakOpen = Math.max(peakOpen, store.stats().openTenants)), 5);
      // 3 writers per tenant, each batch going to the next tenant in turn: tenants close and reopen all along.
      const results = await Promise.all(
        Array.from({ length: 3 }, (_, writer) =>
          (async () => {
            const statuses: number[] = [];
            for (let round = 0; round < 8; round++) {
              const tenant = (writer + round) % apis.length;
              const records = Array.from({ length: 25 }, (_, index) => group(`W${writer}R${round}N${index}`));
              const answer = await apis[tenant]!.put('/groups-batch', records);
              assert.equal(answer.status, 207);
              statuses.push(...(answer.json.data as { status: number }[]).map((item) => item.status));
            }
            return statuses;
          })(),
        ),
      );
      clearInterval(sampler);
      assert.ok(results.flat().every((status) => status === 201), 'every record created');
      assert.ok(peakOpen <= 2, `peak open tenants ${peakOpen} over the cap of 2`);
      // Every write is there, in the tenant it was sent to.
      for (let tenant = 0; tenant < apis.length; tenant++) {
        const db = (await store.tenant(`tenant-${tenant}`))!;
        const [row] = await db.query<{ count: number }>('SELECT count(*)::int AS count FROM groups');
        const expected = Array.from({ length: 3 }, (_, writer) => Array.from({ length: 8 }, (_, round) => (writer + round) % apis.length === tenant)).flat().filter(Boolean).length * 25;
        assert.equal(row!.count, expected, `tenant-${tenant}`);
      }
    } finally {
      for (const api of apis) await api.app.close();
      await store.close();
    }
    // A new process (store) finds it all again.
    const again = await StoreClass.open({ ...setup.config, maxOpenTenants: 1 }, quietLogger);
    try {
      let total = 0;
      for (let tenant = 0; tenant < 4; tenant++) {
        const [row] = await (await again.tenant(`tenant-${tenant}`))!.query<{ count: number }>('SELECT count(*)::int AS count FROM groups');
        total += row!.count;
      }
      assert.equal(total, 3 * 8 * 25);
      assert.equal(again.stats().openTenants, 1);
    } finally {
      await again.close();
    }
  });

  test('idle embedded tenants are closed after VBAPI_TENANT_IDLE_SECONDS and reopen on use', async () => {
    const setup = await embedded.prepare();
    setups.push(setup);
    const store = await StoreClass.open({ ...setup.config, tenantIdleSeconds: 1 }, quietLogger);
    try {
      await store.createDatabase('sleepy');
      const db = (await store.tenant('sleepy'))!;
      const deadline = Date.now() + 15_000;
      while (store.stats().openTenants > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(store.stats().openTenants, 0);
      assert.deepEqual(await db.query('SELECT 1 AS one'), [{ one: 1 }]); // the same handle reopens it
      assert.equal(store.stats().openTenants, 1);
    } finally {
      await store.close();
    }
  });
});
