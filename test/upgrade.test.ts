import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../src/http/app.js';
import { registryMigrations } from '../src/store/registry.js';
import type { Store } from '../src/store/store.js';
import { tenantMigrations } from '../src/store/tenant-schema.js';
import { apiOf, login, loginHeaders, testConfig, type Api, type Credentials } from './support/api.js';
import { backends, openStore, type StoreSetup } from './support/backends.js';
import { scratchDatabase } from './support/scratch-database.js';

/**
 * The proof that upgrades keep data: databases exactly as the first release (0.1.0) left them
 * (test/fixtures/first-release-*.sql, dumped from that release), opened by the current code, which
 * migrates them, must still log their user in and answer every record as that release did
 * (test/fixtures/first-release.expected.json, recorded from its API).
 */
const fixture = (name: string) => readFile(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8');
interface Expected {
  /** The fixture's own API key (a throwaway made for the fixture, valid only against it). */
  readonly apiKey: string;
  readonly records: Record<string, Record<string, unknown>[]>;
}
const startedAt = Date.now();
const KEY_OF: Record<string, string> = { '/benefit-categories': 'benefit_Category', '/benefits': 'benefit_Code', '/groups': 'group_ID' };

for (const backend of backends) {
  describe(`a first-release database opened by this version, on ${backend.name}`, { skip: backend.skip }, () => {
    let setup: StoreSetup;
    let store: Store;
    let api: Api;
    let credentials: Credentials;
    let expected: Expected;
    before(async () => {
      expected = JSON.parse(await fixture('first-release.expected.json')) as Expected;
      setup = await backend.prepare();
      let registry, tenant, location;
      if (backend.name === 'pglite') {
        await mkdir(join(setup.config.dataDir, 'databases'), { recursive: true });
        location = 'db-1';
        registry = await scratchDatabase('pglite', { dir: join(setup.config.dataDir, 'registry') });
        tenant = await scratchDatabase('pglite', { dir: join(setup.config.dataDir, 'databases', location) });
      } else {
        const registryName = decodeURIComponent(new URL(setup.config.databaseUrl!).pathname.slice(1));
        location = `${registryName}__t1`;
        registry = await scratchDatabase('postgres', { name: registryName, exists: true });
        tenant = await scratchDatabase('postgres', { name: location });
      }
      await registry.load((await fixture('first-release-registry.sql')).replaceAll('@TENANT_LOCATION@', location));
      await tenant.load(await fixture('first-release-tenant.sql'));
      store = await openStore(setup);
      const app = await buildApp({ store, config: testConfig() });
      credentials = { clientId: 'fixture', clientCode: 'fixture-code', username: 'fixture', password: 'fixture-password', apiKey: expected.apiKey, database: 'fixture' };
      api = apiOf(app, store, { apiKey: expected.apiKey, token: await login(app, credentials), database: 'fixture' });
    });
    after(async () => {
      await api?.app.close();
      await store?.close();
      await setup?.cleanup();
    });

    test('it is brought to the current versions, and nothing the first release applied is applied again', async () => {
      const tenant = (await store.tenant('fixture'))!;
      for (const [db, migrations, firstRelease] of [[store.registry, registryMigrations, 2], [tenant, tenantMigrations, 1]] as const) {
        const rows = await db.query<{ version: number; applied_at: string }>('SELECT version, applied_at FROM schema_migrations ORDER BY version');
        assert.deepEqual(rows.map((row) => row.version), migrations.map((migration) => migration.version));
        // Versions the first release recorded keep the time it applied them (the fixture's), so they were not run again.
        for (const row of rows) assert.equal(Date.parse(row.applied_at) < startedAt, row.version <= firstRelease, `version ${row.version}`);
      }
    });

    test('its user became a Users record (registry migration 0003) and keeps its password as a permanent one', async () => {
      const answer = await api.app.inject({
        method: 'POST',
        url: '/user-authentication',
        headers: { ...loginHeaders(credentials), 'user-agent': 'tests' },
      });
      const data = JSON.parse(answer.body).data;
      assert.equal(data.challengeName, null, 'no NEW_PASSWORD_REQUIRED: the operator chose that password');
      assert.ok(data.authenticationResult.idToken);
      const [user] = await store.registry.query<Record<string, unknown>>(
        `SELECT "eMail_Address", password_temporary, administrator, disabled FROM users WHERE client_id = 'fixture' AND username = 'fixture'`,
      );
      assert.deepEqual(user, { eMail_Address: 'fixture@users.invalid', password_temporary: false, administrator: false, disabled: false });
    });

    test('every record reads back unchanged, in lists and one by one', async () => {
      for (const [path, records] of Object.entries(expected.records)) {
        assert.ok(records.length >= 2, path);
        const list = await api.get(`${path}?page=1&pageSize=1000`);
        assert.equal(list.status, 200, path);
        assert.deepEqual(list.json.data, records, path);
        for (const record of records) {
          const one = await api.get(`${path}/${encodeURIComponent(String(record[KEY_OF[path]!]))}`);
          assert.equal(one.status, 200, `${path} ${String(record[KEY_OF[path]!])}`);
          assert.deepEqual(one.json.data, record);
        }
      }
    });

    test('and it takes writes as a new database does', async () => {
      const answer = await api.put('/benefits-batch', [
        { benefit_Code: 'NEW', allow_Flat_Tax: false, medicare: 'N', pend_Flag: 'N', benefit_Category: 'MEDICAL' },
        { benefit_Code: 'OV', allow_Flat_Tax: true, medicare: 'Y', pend_Flag: 'N', benefit_Category: 'VISION' },
      ]);
      assert.deepEqual(answer.json.data.map((entry: { status: number }) => entry.status), [201, 200]);
      await store.createDatabase('another');
      assert.deepEqual((await store.list()).map((entry) => entry.name), ['another', 'fixture']);
    });
  });
}
