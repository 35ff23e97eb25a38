import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { Store } from '../src/store/store.js';
import { signedIn, type Api } from './support/api.js';
import { freePort } from './support/ports.js';
import { group } from './support/records.js';

/**
 * PostgreSQL stopped and started under a running server, on a cluster this test creates on its own
 * port with Debian's pg_createcluster (never the machine's shared one) and removes afterwards.
 */
const tools = (() => {
  try {
    execFileSync('which', ['pg_createcluster', 'pg_ctlcluster', 'pg_dropcluster'], { stdio: 'ignore' });
    return readdirSync('/etc/postgresql').sort().at(-1);
  } catch {
    return undefined;
  }
})();
if (!tools) {
  if (process.env.CI === 'true') throw new Error("Debian's postgresql-common tools are required for the database-fault tests when CI=true");
  console.warn('\n!!! pg_createcluster not found: SKIPPING the database-fault tests. !!!\n');
}

const version = tools ?? '';
const cluster = `vbapi_fault_${randomBytes(3).toString('hex')}`;
let port = 0;
const ctl = (action: string) => execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, cluster, action, ...(action === 'stop' ? ['-m', 'fast'] : [])], { stdio: 'pipe' });

describe('database faults (own PostgreSQL cluster)', { skip: tools ? false : 'pg_createcluster not installed' }, () => {
  let store: Store;
  let api: Api;
  before(async () => {
    port = await freePort();
    execFileSync('pg_createcluster', [version, cluster, '-p', String(port), '--', '--auth=trust'], { stdio: 'pipe' });
    ctl('start');
    const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    await admin.connect();
    await admin.query('CREATE DATABASE vbapi_fault');
    await admin.end();
    store = await Store.open({ dataDir: '', databaseUrl: `postgres://postgres@127.0.0.1:${port}/vbapi_fault` }, pino({ level: 'silent' }));
    api = await signedIn(store, 'fault', 'fault');
  });
  after(async () => {
    await api?.app.close();
    await store?.close().catch(() => undefined);
    execFileSync('pg_dropcluster', ['--stop', version, cluster], { stdio: 'pipe' });
  });

  test('PostgreSQL down: 503 in the envelope, quickly; /healthz alive, /readyz not; back up: served again without a restart', async () => {
    assert.equal((await api.put('/groups-batch', [group('BEFORE')])).json.data[0].status, 201);
    assert.equal((await api.get('/readyz')).status, 200);

    ctl('stop');
    for (const attempt of [api.get('/groups/BEFORE'), api.put('/groups-batch', [group('DURING')]), api.request('POST', '/groups', { body: group('DURING') })]) {
      const started = performance.now();
      const answer = await attempt;
      assert.equal(answer.status, 503, answer.text);
      assert.equal(answer.json.error.status, 503);
      assert.doesNotMatch(answer.text, /ECONNREFUSED|terminat|SQL/i, 'no driver detail leaks');
      assert.ok(performance.now() - started < 10_000, 'no hang');
    }
    assert.equal((await api.get('/healthz')).status, 200);
    assert.equal((await api.get('/readyz')).status, 503);

    ctl('start');
    let recovered = 0;
    for (let attempt = 0; attempt < 100 && recovered !== 200; attempt++) {
      recovered = (await api.get('/groups/BEFORE')).status;
      if (recovered !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(recovered, 200);
    assert.equal((await api.put('/groups-batch', [group('AFTER')])).json.data[0].status, 201);
    assert.equal((await api.get('/groups/DURING')).status, 404, 'nothing of the failed requests was applied');
    assert.equal((await api.get('/readyz')).status, 200);
  });
});
