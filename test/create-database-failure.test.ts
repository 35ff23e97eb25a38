import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { adminQuery, describeStore } from './support/backends.js';

describeStore((backend) => `a failed \`database create\` on ${backend.name}`, (context) => {
  const { backend } = context;

    /** The physical databases that exist: PostgreSQL databases of this registry, or PGlite directories. */
    async function physical(): Promise<string[]> {
      if (backend.name === 'pglite') return readdir(join(context.setup.config.dataDir, 'databases'));
      const registry = decodeURIComponent(new URL(context.setup.config.databaseUrl!).pathname.slice(1));
      return (await adminQuery<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1`, [`${registry}\\_\\_t%`])).map((row) => row.datname);
    }

    test('leaves neither a registry entry nor the created database behind, and can be retried', async () => {
      // A fault after the database was created and opened: recording its location in the registry fails.
      await context.store.registry.query(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
      await context.store.registry.query(`CREATE TRIGGER refuse BEFORE UPDATE ON databases FOR EACH ROW EXECUTE FUNCTION refuse()`);
      await assert.rejects(context.store.createDatabase('doomed'), /refused by the test/);
      assert.deepEqual(await context.store.list(), []);
      assert.deepEqual(await physical(), []);

      await context.store.registry.query('DROP TRIGGER refuse ON databases');
      await context.store.createDatabase('doomed');
      assert.deepEqual((await context.store.list()).map((entry) => entry.name), ['doomed']);
      assert.equal((await physical()).length, 1);
    });
});
