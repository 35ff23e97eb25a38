import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { backends, preparePostgres, type StoreSetup } from './support/backends.js';
import { group } from './support/records.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function vbapi(args: string[], env: Record<string, string>): Promise<Run> {
  const child = start(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const storeEnv = (setup: StoreSetup): Record<string, string> =>
  setup.config.databaseUrl ? { DATABASE_URL: setup.config.databaseUrl } : { VBAPI_DATA_DIR: setup.config.dataDir };

for (const backend of backends) {
  describe(`vbapi on ${backend.name}`, { skip: backend.skip }, () => {
    const setups: StoreSetup[] = [];
    after(async () => {
      for (const setup of setups) await setup.cleanup();
    });

    test('database create / list, with clear one-line errors and exit codes', async () => {
      const setup = await backend.prepare();
      setups.push(setup);
      const env = storeEnv(setup);
      const created = await vbapi(['database', 'create', 'acme'], env);
      assert.equal(created.code, 0, created.stderr);
      assert.equal(created.stdout, 'created database acme\n');
      const again = await vbapi(['database', 'create', 'acme'], env);
      assert.deepEqual([again.code, again.stderr], [1, 'vbapi: database "acme" already exists\n']);
      const invalid = await vbapi(['database', 'create', '../etc'], env);
      assert.equal(invalid.code, 1);
      assert.match(invalid.stderr, /^vbapi: invalid database name "\.\.\/etc"/);
      const listed = await vbapi(['database', 'list'], env);
      assert.equal(listed.stdout, `acme\t${backend.name}\n`);
      const missing = await vbapi(['database', 'create'], env);
      assert.equal(missing.code, 2);
      const unknown = await vbapi(['frobnicate'], env);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /^vbapi: unknown command "frobnicate"/);
      const badPort = await vbapi(['serve'], { ...env, PORT: 'eighty' });
      assert.deepEqual([badPort.code, badPort.stderr], [1, 'vbapi: PORT must be an integer from 0 to 65535, got "eighty"\n']);
    });

    test('serve: first run creates the demo database, answers, and drains on SIGTERM', async () => {
      const setup = backend.name === 'postgres' ? await preparePostgres() : await backend.prepare();
      setups.push(setup);
      const port = await freePort();
      const server = start(['serve', '--port', String(port)], storeEnv(setup));
      let stderr = '';
      server.stderr!.on('data', (chunk) => (stderr += chunk));
      const exited = new Promise<number | null>((resolve) => server.on('close', resolve));
      try {
        await waitFor(`http://127.0.0.1:${port}/healthz`);
        const response = await fetch(`http://127.0.0.1:${port}/groups-batch`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json', 'vbasoftware-database': 'demo', 'user-agent': 'cli-test' },
          body: JSON.stringify([group('FIRST')]),
        });
        assert.equal(response.status, 207);
        assert.equal(((await response.json()) as { data: { status: number }[] }).data[0]!.status, 201);
        if (backend.name === 'pglite') {
          const busy = await vbapi(['database', 'create', 'other'], storeEnv(setup));
          assert.equal(busy.code, 1);
          assert.match(busy.stderr, /in use by process/);
        }
      } finally {
        server.kill('SIGTERM');
      }
      assert.equal(await exited, 0, stderr);
      if (backend.name === 'pglite') assert.equal(existsSync(join(setup.config.dataDir, '.lock')), false, 'lock released');
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
