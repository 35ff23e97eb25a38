import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { Store } from '../src/store/store.js';
import { signedIn } from './support/api.js';
import { ADMIN_URL, backends, quietLogger, type StoreSetup } from './support/backends.js';
import { freePort } from './support/ports.js';
import { category, group } from './support/records.js';

/**
 * The server works through PgBouncer in transaction pooling mode: no session state is relied on
 * across transactions. PgBouncer (Debian package `pgbouncer`, installed by .ci/run) is started here
 * with its own configuration on a free port, in front of the test PostgreSQL, and stopped after.
 */
const PGBOUNCER = '/usr/sbin/pgbouncer';
const postgres = backends[1]!;
const available = spawnSync(PGBOUNCER, ['--version']).status === 0;
const skip = postgres.skip || (available ? false : `${PGBOUNCER} is not installed (apt-get install pgbouncer)`);
if (!available && process.env.CI === 'true') throw new Error('pgbouncer is required when CI=true');

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function startPgbouncer(): Promise<{ port: number; child: ChildProcess }> {
  const admin = new URL(ADMIN_URL);
  const dir = await mkdtemp(join(tmpdir(), 'vbapi-pgbouncer-'));
  await chmod(dir, 0o755); // PgBouncer refuses to run as root: it runs as nobody and must read this
  const port = await freePort();
  const config = join(dir, 'pgbouncer.ini');
  await writeFile(
    config,
    [
      '[databases]',
      // Every database name goes to the same PostgreSQL server; each server connection starts in UTC.
      `* = host=${admin.hostname} port=${admin.port || 5432} user=${decodeURIComponent(admin.username) || 'postgres'} connect_query='SET TimeZone=UTC'`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = any',
      'pool_mode = transaction',
      'default_pool_size = 5',
      'max_client_conn = 200',
      // The server asks for `-c TimeZone=UTC` at connect; connect_query above does it instead.
      'ignore_startup_parameters = options',
      // Unnamed statements only (pgPreparedStatements: false below): any PgBouncer version will do.
      '',
    ].join('\n'),
  );
  await chmod(config, 0o644);
  const args = process.getuid?.() === 0 ? ['-u', 'nobody', config] : [config];
  const child: ChildProcess = spawn(PGBOUNCER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  cleanups.push(async () => {
    child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const client = new pg.Client({ host: '127.0.0.1', port, user: admin.username || 'postgres', database: 'postgres' });
    try {
      await client.connect();
      await client.end();
      return { port, child };
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`pgbouncer did not start: ${(error as Error).message}\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

describe('through PgBouncer (transaction pooling)', { skip }, () => {
  test('login, batch, get and list work; tenant databases are created and migrated through it', async () => {
    const setup: StoreSetup = await postgres.prepare();
    cleanups.push(() => setup.cleanup());
    const { port } = await startPgbouncer();
    const through = new URL(setup.config.databaseUrl!);
    through.port = String(port);
    const store = await Store.open({ ...setup.config, databaseUrl: through.toString(), pgMaxConnections: 6, pgPreparedStatements: false }, quietLogger);
    try {
      const api = await signedIn(store, 'bounced-client', 'bounced');
      const batch = await api.put('/groups-batch', [group('PGB-1', { notes: 'through pgbouncer' }), group('PGB-2')]);
      assert.equal(batch.status, 207);
      assert.deepEqual((batch.json.data as { status: number }[]).map((item) => item.status), [201, 201]);
      const again = await api.put('/groups-batch', [group('PGB-1', { notes: 'updated' })]);
      assert.equal(again.json.data[0].status, 200);
      const one = await api.get('/groups/PGB-1');
      assert.equal(one.status, 200);
      assert.equal(one.json.data.notes, 'updated');
      assert.match(one.json.data.entry_Date, /Z$/); // timestamps still come back in UTC
      const list = await api.get('/groups?pageSize=10');
      assert.equal(list.status, 200);
      assert.deepEqual((list.json.data as { group_ID: string }[]).map((row) => row.group_ID), ['PGB-1', 'PGB-2']);
      await api.app.close();
    } finally {
      await store.close();
    }
  });

  test('VBAPI_STATEMENT_TIMEOUT_MS still cancels a transaction\'s statement (PgBouncer drops startup options): 503, nothing applied', { timeout: 60_000 }, async () => {
    const setup: StoreSetup = await postgres.prepare();
    cleanups.push(() => setup.cleanup());
    const { port } = await startPgbouncer();
    const through = new URL(setup.config.databaseUrl!);
    through.port = String(port);
    const store = await Store.open({ ...setup.config, databaseUrl: through.toString(), pgMaxConnections: 6, statementTimeoutMs: 1000, pgPreparedStatements: false }, quietLogger);
    const api = await signedIn(store, 'bounced-timeout', 'bounced_timeout');
    // Straight to PostgreSQL, not through PgBouncer: holds a lock the server's batch will wait for.
    const location = (await store.find('bounced_timeout'))!.location;
    const holder = new pg.Client({ connectionString: Object.assign(new URL(setup.config.databaseUrl!), { pathname: `/${location}` }).toString() });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE benefit_categories IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const batch = await api.put('/benefit-categories-batch', [category('BLOCKED')]);
      assert.equal(batch.status, 503);
      assert.match(batch.json.error.detail, /nothing was applied/);
      assert.ok(Date.now() - started < 30_000, 'answered after the statement timeout, not after the lock');
      await holder.query('ROLLBACK');
      assert.equal((await api.get('/benefit-categories/BLOCKED')).status, 404);
      assert.equal((await api.put('/benefit-categories-batch', [category('BLOCKED')])).json.data[0].status, 201);
    } finally {
      await holder.end();
      await api.app.close();
      await store.close();
    }
  });
});
