import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { Database } from '../src/store/database.js';
import { Store } from '../src/store/store.js';
import { signedIn, type Api } from './support/api.js';
import { backends, quietLogger, type StoreSetup } from './support/backends.js';
import { benefit, category } from './support/records.js';

/** How the PostgreSQL store treats its pooled connections when things go wrong (issue 11, review defects 1 and 3). */
const postgres = backends.find((backend) => backend.name === 'postgres')!;

describe('pooled PostgreSQL connections', { skip: postgres.skip }, () => {
  let setup: StoreSetup;
  let store: Store;
  let api: Api;
  let tenant: Database;
  const pid = async () => (await tenant.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid;
  before(async () => {
    setup = await postgres.prepare();
    store = await Store.open({ ...setup.config, statementTimeoutMs: 1000 }, quietLogger);
    api = await signedIn(store, 'pool-client', 'pool');
    tenant = (await store.tenant('pool'))!;
  });
  after(async () => {
    await api?.app.close();
    await store?.close();
    await setup?.cleanup();
  });

  test('a 4xx thrown inside a transaction keeps the connection (same backend pid afterwards)', async () => {
    // Requests run one after another reuse the connection released last; a discarded one would be replaced.
    const first = await pid();
    for (let attempt = 0; attempt < 3; attempt++) {
      const answer = await api.request('POST', '/benefits', { body: benefit(`B${attempt}`, { benefit_Category: 'UNKNOWN' }) });
      assert.equal(answer.status, 422);
      assert.equal(await pid(), first);
    }
    // So does a transaction failing on a constraint: rolled back, the connection is as good as new.
    await assert.rejects(tenant.transaction(async (tx) => tx.query(`INSERT INTO benefit_categories ("benefit_Category", "entry_Date", "update_Date") VALUES ('', now(), now())`)), { code: '23514' });
    assert.equal(await pid(), first);
  });

  test('a broken connection is discarded, and the next query gets a working one', async () => {
    const first = await pid();
    await assert.rejects(tenant.transaction(async (tx) => tx.query('SELECT pg_terminate_backend(pg_backend_pid())')), { code: '57P01' });
    const next = await pid();
    assert.notEqual(next, first);
  });

  test('a statement running longer than VBAPI_STATEMENT_TIMEOUT_MS is cancelled and answered 503 in the envelope', { timeout: 60_000 }, async () => {
    assert.equal((await api.put('/benefit-categories-batch', [category('LOCKED')])).json.data[0].status, 201);
    const location = (await store.find('pool'))!.location;
    const holder = new pg.Client({ connectionString: Object.assign(new URL(setup.config.databaseUrl!), { pathname: `/${location}` }).toString() });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE benefit_categories IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const read = await api.get('/benefit-categories/LOCKED');
      assert.equal(read.status, 503);
      assert.equal(read.json.data, null);
      assert.equal(read.json.error.status, 503);
      assert.ok(Date.now() - started < 30_000, 'answered after the statement timeout, not after the lock');
      const batch = await api.put('/benefit-categories-batch', [category('OTHER')]);
      assert.equal(batch.status, 503);
      assert.match(batch.json.error.detail, /nothing was applied/);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    assert.equal((await api.get('/benefit-categories/LOCKED')).status, 200);
  });
});
