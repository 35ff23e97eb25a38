import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { migrations as tenantMigrations } from '../src/store/migrations/tenant/index.js';
import { Store, StoreError } from '../src/store/store.js';
import { signedIn } from './support/api.js';
import { ADMIN_URL, adminQuery, backends, describeStore, openStore, preparePostgres, quietLogger } from './support/backends.js';
import { group } from './support/records.js';

/** Each committed tenant migration, applied exactly once. */
const everyTenantMigration = tenantMigrations.map((migration) => ({ version: migration.version }));

describeStore((backend) => `the store on ${backend.name}`, (context) => {

    test('database names pass an allow-list; duplicates are refused', async () => {
      await context.store.createDatabase('alpha');
      await assert.rejects(context.store.createDatabase('alpha'), (error: Error) => error instanceof StoreError && /already exists/.test(error.message));
      for (const name of ['', '../x', 'a b', 'x'.repeat(64), '-lead', 'semi;colon', 'é']) {
        await assert.rejects(context.store.createDatabase(name), StoreError, JSON.stringify(name));
        assert.equal(await context.store.tenant(name), null);
      }
      assert.equal(await context.store.tenant('unknown'), null);
      assert.deepEqual((await context.store.list()).map((entry) => entry.name), ['alpha']);
    });

    test('databases and their records survive a restart; migrations run once', async () => {
      const client = await signedIn(context.store, 'c1', 'alpha');
      const answer = await client.put('/groups-batch', [group('KEEP')]);
      assert.equal(answer.json.data[0].status, 201);
      await client.app.close();
      await context.reopen();
      const db = (await context.store.tenant('alpha'))!;
      assert.deepEqual(await db.query('SELECT "group_ID" FROM groups'), [{ group_ID: 'KEEP' }]);
      assert.deepEqual(await db.query('SELECT version FROM schema_migrations ORDER BY version'), everyTenantMigration);
    });

    // A field or record type added to the descriptions reaches existing databases through a generated,
    // committed migration (no longer by adding missing columns on open): see migrations.test.ts.
    test('opening a tenant applies the committed migrations it lacks', async () => {
      const db = (await context.store.tenant('alpha'))!;
      // As if the database had been made before migration 1 (and so had no tables).
      await db.query('DROP TABLE benefits, groups, benefit_categories, idempotency_keys');
      await db.query('DELETE FROM schema_migrations');
      await context.reopen();
      const reopened = (await context.store.tenant('alpha'))!;
      assert.deepEqual(await reopened.query('SELECT count(*) AS n FROM groups'), [{ n: 0 }]);
      assert.deepEqual(await reopened.query('SELECT version FROM schema_migrations ORDER BY version'), everyTenantMigration);
    });
});

describe('PGlite settings', () => {
  test('VBAPI_PGLITE_SHARED_BUFFERS_MB sets shared_buffers of the registry and of every tenant database', { skip: backends[0]!.skip }, async () => {
    const setup = await backends[0]!.prepare();
    const store = await Store.open({ ...setup.config, pgliteSharedBuffersMb: 24 }, quietLogger);
    try {
      await store.createDatabase('buffers');
      const tenant = (await store.tenant('buffers'))!;
      for (const db of [store.registry, tenant]) {
        assert.deepEqual(await db.query('SHOW shared_buffers'), [{ shared_buffers: '24MB' }]);
      }
      // Set for the session only: the data directories' own postgresql.conf (initdb's settings) is left as it was.
      for (const dir of ['registry', `databases/${(await store.find('buffers'))!.location}`]) {
        const conf = await readFile(join(setup.config.dataDir, dir, 'postgresql.conf'), 'utf8');
        assert.match(conf, /^default_text_search_config = 'pg_catalog.english'/m, dir);
        assert.doesNotMatch(conf, /^shared_buffers = 24MB/m, dir);
      }
    } finally {
      await store.close();
      await setup.cleanup();
    }
  });
});

describe('isolation', () => {
  test('PGlite: a second process or store cannot open a data directory in use', { skip: backends[0]!.skip }, async () => {
    const setup = await backends[0]!.prepare();
    const store = await openStore(setup);
    try {
      await assert.rejects(openStore(setup), /in use by process \d+/);
    } finally {
      await store.close();
    }
    const again = await openStore(setup); // released on close
    await again.close();
    await setup.cleanup();
  });

  test('PostgreSQL: installations sharing one server get distinct tenant databases', { skip: backends[1]!.skip }, async () => {
    const [one, two] = [await preparePostgres(), await preparePostgres()];
    const [first, second] = [await openStore(one), await openStore(two)];
    try {
      const a = await first.createDatabase('shared');
      const b = await second.createDatabase('shared');
      assert.notEqual(a.location, b.location);
      assert.ok(a.location.startsWith(new URL(one.config.databaseUrl!).pathname.slice(1)));
      const names = (await adminQuery<{ datname: string }>('SELECT datname FROM pg_database')).map((row) => row.datname);
      assert.ok(names.includes(a.location) && names.includes(b.location));
    } finally {
      await first.close();
      await second.close();
      await one.cleanup();
      await two.cleanup();
    }
  });

  test('--url: a database on another PostgreSQL server is registered and migrated', { skip: backends[1]!.skip }, async () => {
    const setup = await backends[0]!.prepare(); // an embedded registry…
    const external = `vbapi_test_external_${randomBytes(4).toString('hex')}`;
    await adminQuery(`CREATE DATABASE "${external}"`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${external}`;
    const store = await openStore(setup);
    try {
      const entry = await store.createDatabase('remote', { url: url.toString() }); // …with a tenant on PostgreSQL
      assert.equal(entry.external, true);
      const client = await signedIn(store, 'c2', 'remote');
      const answer = await client.put('/groups-batch', [group('FAR')]);
      assert.equal(answer.json.data[0].status, 201);
      await client.app.close();
      await assert.rejects(store.createDatabase('bad', { url: 'mysql://x/y' }), StoreError);
      await assert.rejects(store.createDatabase('unreachable', { url: 'postgres://root@127.0.0.1:1/none' }));
      assert.equal(await store.find('unreachable'), null, 'a failed registration leaves nothing behind');
    } finally {
      await store.close();
      await setup.cleanup();
      await adminQuery(`DROP DATABASE IF EXISTS "${external}" WITH (FORCE)`);
    }
  });
});
