import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Store } from '../src/store/store.js';
import { adminQuery, backends, openStore, type StoreSetup } from './support/backends.js';

for (const backend of backends) {
  describe(`a failed \`database create\` on ${backend.name}`, { skip: backend.skip }, () => {
    let setup: StoreSetup;
    let store: Store;
    before(async () => {
      setup = await backend.prepare();
      store = await openStore(setup);
    });
    after(async () => {
      await store?.close();
      await setup?.cleanup();
    });

    /** The physical databases that exist: PostgreSQL databases of this registry, or PGlite directories. */
    async function physical(): Promise<string[]> {
      if (backend.name === 'pglite') return readdir(join(setup.config.dataDir, 'databases'));
      const registry = decodeURIComponent(new URL(setup.config.databaseUrl!).pathname.slice(1));
      return (await adminQuery<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1`, [`${registry}\\_\\_t%`])).map((row) => row.datname);
    }

    test('leaves neither a registry entry nor the created database behind, and can be retried', async () => {
      // A fault after the database was created and opened: recording its location in the registry fails.
      await store.registry.query(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
      await store.registry.query(`CREATE TRIGGER refuse BEFORE UPDATE ON databases FOR EACH ROW EXECUTE FUNCTION refuse()`);
      await assert.rejects(store.createDatabase('doomed'), /refused by the test/);
      assert.deepEqual(await store.list(), []);
      assert.deepEqual(await physical(), []);

      await store.registry.query('DROP TRIGGER refuse ON databases');
      await store.createDatabase('doomed');
      assert.deepEqual((await store.list()).map((entry) => entry.name), ['doomed']);
      assert.equal((await physical()).length, 1);
    });
  });
}
