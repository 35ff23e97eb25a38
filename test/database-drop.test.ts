import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Accounts } from '../src/auth/accounts.js';
import { StoreError, TENANT_RECHECK_MS } from '../src/store/store.js';
import { adminQuery, describeStore, openStore } from './support/backends.js';

/** `vbapi database drop` is `Store.dropDatabase`: on both stores, and across instances sharing a PostgreSQL registry. */
describeStore((backend) => `database drop on ${backend.name}`, (context) => {
  const { backend } = context;

    /** Whether the database's storage still exists (a directory, or a PostgreSQL database). */
    const stored = async (location: string) =>
      backend.name === 'pglite'
        ? existsSync(join(context.setup.config.dataDir, 'databases', location))
        : (await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [location])).length > 0;

    test('refused while users are granted it unless forced; then unregistered, closed and removed, grants and sessions ended', async () => {
      const entry = await context.store.createDatabase('doomed');
      await context.store.createDatabase('kept');
      await (await context.store.tenant('doomed'))!.query('CREATE TABLE marker (x integer)');
      const accounts = new Accounts(context.store.registry);
      await accounts.createClient('acme', 'A');
      await accounts.createUser('acme', 'alice', 'alice long password', ['doomed', 'kept']);
      await context.store.registry.query(
        `INSERT INTO sessions (id, client_id, username, database, refresh_hash, expires_at) VALUES ('s1', 'acme', 'alice', 'doomed', 'h1', now() + interval '1 day')`,
      );

      await assert.rejects(context.store.dropDatabase('doomed'), (error: Error) => error instanceof StoreError && /granted to 1 user\(s\) \(acme\/alice\); give --force/.test(error.message));
      assert.ok(await context.store.tenant('doomed'), 'a refused drop changes nothing');
      assert.deepEqual(await context.store.dropDatabase('doomed', { force: true }), { entry, grants: 1 });
      assert.equal(await context.store.tenant('doomed'), null);
      assert.deepEqual((await context.store.list()).map((database) => database.name), ['kept']);
      assert.equal(await stored(entry.location), false);
      assert.equal(await accounts.mayUse('acme', 'alice', 'doomed'), false);
      assert.equal(await accounts.mayUse('acme', 'alice', 'kept'), true, 'other grants stay');
      const [session] = await context.store.registry.query<{ revoked_reason: string }>(`SELECT revoked_reason FROM sessions WHERE id = 's1'`);
      assert.equal(session!.revoked_reason, 'database dropped');

      // A new database of the same name is a new, empty one.
      await context.store.createDatabase('doomed');
      assert.deepEqual(await (await context.store.tenant('doomed'))!.query(`SELECT to_regclass('marker') IS NULL AS fresh`), [{ fresh: true }]);
      await assert.rejects(context.store.dropDatabase('nothing'), /no database "nothing"/);
      await assert.rejects(context.store.dropDatabase('../registry'), /no database "\.\.\/registry"/);
    });

    if (backend.name === 'postgres') {
      test('another instance sharing the registry loses its connections and stops using the dropped database within TENANT_RECHECK_MS', async () => {
        const other = await openStore(context.setup);
        try {
          await context.store.createDatabase('shared');
          const held = (await other.tenant('shared'))!;
          await held.query('CREATE TABLE marker (x integer)');
          const { entry } = await context.store.dropDatabase('shared'); // WITH (FORCE): the other instance's connections end
          assert.equal(await stored(entry.location), false);
          await context.store.createDatabase('shared');
          await new Promise((resolve) => setTimeout(resolve, TENANT_RECHECK_MS + 100));
          const fresh = (await other.tenant('shared'))!;
          assert.deepEqual(await fresh.query(`SELECT to_regclass('marker') IS NULL AS fresh`), [{ fresh: true }], 'the new database, not the dropped one');
          await assert.rejects(held.query('SELECT 1'), /no longer registered/, 'the old handle is retired');
        } finally {
          await other.close();
        }
      });
    }
});
