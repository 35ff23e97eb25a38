/**
 * Writes test/fixtures/first-release.sql and first-release.expected.json: the registry and tenant
 * databases exactly as the first release (0.1.0) creates them, with a few representative rows.
 * Run once, on the first release's code, against a PostgreSQL server:
 *   tsx scripts/make-first-release-fixture.ts postgres://root@127.0.0.1:5432/postgres
 * Kept for the record: re-running it on later code would describe the later schema instead.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import pino from 'pino';
import { Accounts } from '../src/auth/accounts.js';
import { loadConfig } from '../src/config.js';
import { buildApp } from '../src/http/app.js';
import { Store } from '../src/store/store.js';
import { benefit, category, group, maximalBenefit, maximalCategory, maximalGroup } from '../test/support/records.js';

const admin = process.argv[2] ?? 'postgres://root@127.0.0.1:5432/postgres';
const registryName = `vbapi_fixture_${process.pid}`;
const adminQuery = async (sql: string) => {
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
};
const urlOf = (name: string) => Object.assign(new URL(admin), { pathname: `/${name}` }).toString();

await adminQuery(`CREATE DATABASE "${registryName}"`);
const store = await Store.open({ dataDir: '', databaseUrl: urlOf(registryName) }, pino({ level: 'silent' }));
try {
  const tenant = await store.createDatabase('fixture');
  const accounts = new Accounts(store.registry);
  await accounts.createClient('fixture', 'fixture-code');
  const { key } = await accounts.createKey('fixture');
  await accounts.createUser('fixture', 'fixture', 'fixture-password', ['fixture']);
  const app = await buildApp({ store, config: { ...loadConfig({}), rateLimit: null } });
  const login = await app.inject({
    method: 'POST', url: '/user-authentication',
    headers: {
      'x-api-key': key, authorization: `Basic ${Buffer.from('fixture:fixture-password').toString('base64')}`,
      'vbasoftware-client-id': 'fixture', 'vbasoftware-client-code': 'fixture-code', 'vbasoftware-database': 'fixture', 'user-agent': 'fixture',
    },
  });
  const token = (JSON.parse(login.body) as { data: { authenticationResult: { idToken: string } } }).data.authenticationResult.idToken;
  const headers = { 'x-api-key': key, authorization: `Bearer ${token}`, 'vbasoftware-database': 'fixture', 'user-agent': 'fixture', 'content-type': 'application/json' };
  const put = async (url: string, body: unknown) => {
    const response = await app.inject({ method: 'PUT', url, headers, payload: JSON.stringify(body) });
    if (response.statusCode !== 207) throw new Error(`${url}: ${response.statusCode} ${response.body}`);
  };
  await put('/benefit-categories-batch', [
    category('MEDICAL', { description: 'Medical' }),
    category('VISION'),
    maximalCategory('DENTAL-ÉÈ中😀'),
  ]);
  await put('/benefits-batch', [
    benefit('OV', { benefit_Category: 'MEDICAL', benefit_Description: 'Office visit' }),
    benefit('NOCAT'),
    maximalBenefit('XR', 'DENTAL-ÉÈ中😀'),
  ]);
  await put('/groups-batch', [
    group('G1', { group_Name: 'First group', city: 'Springfield', caseRate: 0.5, disenroll_Date: '2024-02-29T12:00:00.000Z' }),
    maximalGroup('G2-Grüße'),
  ]);
  const expected: Record<string, unknown> = {};
  for (const path of ['/benefit-categories', '/benefits', '/groups']) {
    const response = await app.inject({ method: 'GET', url: `${path}?page=1&pageSize=1000`, headers });
    expected[path] = (JSON.parse(response.body) as { data: unknown }).data;
  }
  await app.close();
  const dump = (database: string, args: string[]) =>
    execFileSync('pg_dump', ['--no-owner', '--no-privileges', ...args, urlOf(database)], { encoding: 'utf8' })
      .split('\n')
      // psql meta-commands (\restrict), session settings and comments: noise, and `search_path = ''` would outlive the load on PGlite's one session.
      .filter((line) => line && !line.startsWith('\\') && !line.startsWith('--') && !line.startsWith('SET ') && !line.startsWith('SELECT pg_catalog.set_config'))
      .join('\n');
  const registry = [dump(registryName, ['--schema-only']), dump(registryName, ['--data-only', '--column-inserts'])].join('\n')
    // The signing key and the tenant's location belong to the machine that made the fixture.
    .replace(/(VALUES \('jwt_secret', ')[^']*'/, "$1first-release-fixture-signing-key-not-secret'")
    .replace(new RegExp(`'${tenant.location}'`, 'g'), "'@TENANT_LOCATION@'");
  const tenantSql = [dump(tenant.location, ['--schema-only']), dump(tenant.location, ['--data-only', '--column-inserts'])].join('\n');
  writeFileSync('test/fixtures/first-release-registry.sql', `-- The registry database as vbapi-server 0.1.0 created it (pg_dump, no owners), with its rows.\n-- Made by scripts/make-first-release-fixture.ts; the test replaces @TENANT_LOCATION@.\n${registry}\n`);
  writeFileSync('test/fixtures/first-release-tenant.sql', `-- A tenant database as vbapi-server 0.1.0 created it (pg_dump, no owners), with its rows.\n-- Made by scripts/make-first-release-fixture.ts.\n${tenantSql}\n`);
  writeFileSync('test/fixtures/first-release.expected.json', `${JSON.stringify({ apiKey: key, records: expected }, null, 2)}\n`);
} finally {
  await store.close();
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`${registryName}%`]);
  for (const { datname } of rows) await client.query(`DROP DATABASE "${datname}" WITH (FORCE)`);
  await client.end();
}
