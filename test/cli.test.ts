import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { backends, preparePostgres, type StoreSetup } from './support/backends.js';
import { group } from './support/records.js';
import { freePort } from './support/ports.js';
import { demoHeaders } from './support/server-process.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], env: Record<string, string>, input?: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) child.stdin!.end(input);
  return child;
}

function vbapi(args: string[], env: Record<string, string>, input?: string): Promise<Run> {
  const child = start(args, env, input);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const storeEnv = (setup: StoreSetup): Record<string, string> =>
  setup.config.databaseUrl ? { DATABASE_URL: setup.config.databaseUrl } : { VBAPI_DATA_DIR: setup.config.dataDir };

describe('vbapi usage: help, and usage mistakes exit 2 with one line', () => {
  const env = { VBAPI_DATA_DIR: join(tmpdir(), `vbapi-cli-usage-${process.pid}`) };
  after(() => rm(env.VBAPI_DATA_DIR, { recursive: true, force: true }));

  test('no arguments prints the usage on stderr and exits 2; help and --help print it on stdout and exit 0', async () => {
    const bare = await vbapi([], env);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /^usage: vbapi <command>/);
    for (const args of [['help'], ['--help'], ['-h']]) {
      const help = await vbapi(args, env);
      assert.deepEqual([help.code, help.stderr], [0, ''], args.join(' '));
      assert.match(help.stdout, /^usage: vbapi <command>[\s\S]*database create/);
    }
  });

  test('help <command> and <command> --help print that command\'s usage', async () => {
    const group = await vbapi(['help', 'database'], env);
    assert.equal(group.code, 0);
    assert.match(group.stdout, /^usage: vbapi database create <name>/);
    assert.match(group.stdout, /usage: vbapi database list/);
    assert.doesNotMatch(group.stdout, /client create/);
    for (const args of [['database', '--help'], ['database', 'create', '--help'], ['help', 'database', 'create']]) {
      const help = await vbapi(args, env);
      assert.equal(help.code, 0, args.join(' '));
      assert.match(help.stdout, /^usage: vbapi database create <name> \[--url <postgres url>\]\n  Register a database/);
      if (args.includes('create')) assert.doesNotMatch(help.stdout, /database list/);
    }
    const unknown = await vbapi(['help', 'frobnicate'], env);
    assert.deepEqual([unknown.code, unknown.stderr], [2, 'vbapi: unknown command "frobnicate"; "vbapi help" lists the commands\n']);
  });

  test('serve when PostgreSQL does not answer: one line and exit 1, not a stack trace', async () => {
    // The store opens while the HTTP stack loads (serve.ts): its failure must still end the start in one line.
    const run = await vbapi(['serve'], { ...env, DATABASE_URL: `postgres://root@127.0.0.1:${await freePort()}/vbapi` });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^vbapi: error: connect ECONNREFUSED 127\.0\.0\.1:\d+\n$/);
  });

  test('unknown or misplaced options, a bad --port and a too-short key prefix: one line, exit 2', async () => {
    const cases: [string[], string][] = [
      [['database', 'list', '--frob'], 'vbapi: unknown option "--frob"; "vbapi help" lists the options of each command\n'],
      [['database', 'list', '--code', 'x'], 'vbapi: database list does not take --code; see "vbapi help database list"\n'],
      [['serve', '--port', 'abc'], 'vbapi: --port must be an integer from 0 to 65535, got "abc"\n'],
      [['serve', '--port', '70000'], 'vbapi: --port must be an integer from 0 to 65535, got "70000"\n'],
      [['serve', '--port'], 'vbapi: option --port needs a value\n'],
      [['key', 'revoke', 'vba_abc'], 'vbapi: "vba_abc" is too short: give the key\'s id or at least its first 12 characters\n'],
    ];
    for (const [args, stderr] of cases) {
      const run = await vbapi(args, env);
      assert.deepEqual([run.code, run.stderr], [2, stderr], args.join(' '));
    }
  });
});

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

    test('clients, keys and users: create, grant, revoke, with clear errors', async () => {
      const setup = await backend.prepare();
      setups.push(setup);
      const env = storeEnv(setup);
      const ok = async (args: string[], input?: string) => {
        const run = await vbapi(args, env, input);
        assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
        return run.stdout;
      };
      const fails = async (args: string[], pattern: RegExp, code = 1) => {
        const run = await vbapi(args, env);
        assert.equal(run.code, code, `${args.join(' ')}: ${run.stdout}`);
        assert.match(run.stderr, pattern);
        assert.equal(run.stderr.trim().split('\n').length, 1, 'one line');
      };
      await ok(['database', 'create', 'one']);
      await ok(['database', 'create', 'two']);
      assert.equal(await ok(['client', 'create', 'acme', '--code', 'ACME-1']), 'created client acme\n');
      await fails(['client', 'create', 'acme', '--code', 'x'], /^vbapi: client "acme" already exists$/m);
      await fails(['client', 'create', 'acme2'], /--code/, 2);
      const keyOutput = (await ok(['key', 'create', 'acme'])).trim().split('\n');
      const key = keyOutput.at(-1)!;
      assert.match(key, /^vba_[A-Za-z0-9_-]{43}$/, 'the key alone on the last line');
      await fails(['key', 'create', 'nobody'], /^vbapi: no client "nobody"$/m);
      await ok(['user', 'create', 'acme', 'alice', '--password', 'correct horse', '--database', 'one']);
      await ok(['user', 'create', 'acme', 'bob', '--password-stdin', '--database', 'one', '--database', 'two'], 'battery staple\n');
      await fails(['user', 'create', 'acme', 'alice', '--password', 'another password', '--database', 'one'], /already exists/);
      // Contract 6.3's password policy and the vendor's 16-character user IDs apply to the operator too.
      await fails(['user', 'create', 'acme', 'carol', '--password', 'elevenchars', '--database', 'one'], /the password must be at least 12 characters/);
      await fails(['user', 'create', 'acme', 'carolcarolcarol', '--password', 'CarolCarolCarol', '--database', 'one'], /the password must not be the user ID/);
      await fails(['user', 'create', 'acme', 'carol', '--password', 'long enough pw', '--database', 'nope'], /no database "nope"/);
      await fails(['user', 'create', 'acme', 'x'.repeat(17), '--password', 'long enough pw', '--database', 'one'], /invalid username .*1-16/);
      await fails(['user', 'create', 'acme', 'carol', '--password', 'long enough pw', '--password-stdin', '--database', 'one'], /either --password/, 2);
      await ok(['user', 'grant', 'acme', 'alice', '--database', 'two']);
      await fails(['user', 'grant', 'acme', 'nobody', '--database', 'two'], /no user "nobody"/);
      await fails(['key', 'revoke', 'vba_nothing-like-it'], /no active API key/);
      assert.match(await ok(['key', 'revoke', key.slice(0, 16)]), /^revoked API key [0-9a-f]{8}\n$/);
      await fails(['key', 'revoke', key], /no active API key/);
    });

    test('serve: the first run prints a working login once, later starts print nothing secret; SIGTERM drains', async () => {
      const setup = backend.name === 'postgres' ? await preparePostgres() : await backend.prepare();
      setups.push(setup);
      const first = await serving(setup, async (base, stdout) => {
        assert.match(stdout, /curl -s -X POST http:\/\/127\.0\.0\.1:\d+\/user-authentication/);
        assert.ok(stdout.includes(`Or try it in a browser: ${base}/docs`), 'the first-run block points to /docs');
        const { headers, credentials } = await demoHeaders(base, stdout); // the printed key and password work
        const response = await fetch(`${base}/groups-batch`, { method: 'PUT', headers, body: JSON.stringify([group('FIRST')]) });
        assert.equal(response.status, 207);
        assert.equal(((await response.json()) as { data: { status: number }[] }).data[0]!.status, 201);
        // The embedded store is the server's: the command is run by it (over its control socket).
        const meanwhile = await vbapi(['database', 'create', 'other'], storeEnv(setup));
        assert.deepEqual([meanwhile.code, meanwhile.stdout], [0, 'created database other\n'], meanwhile.stderr);
        return credentials.key;
      });
      await serving(setup, async (_base, stdout) => {
        assert.doesNotMatch(stdout, /password|vba_/i);
        assert.ok(!stdout.includes(first));
      });
      if (backend.name === 'pglite') assert.equal(existsSync(join(setup.config.dataDir, '.lock')), false, 'lock released');
    });
  });
}

test('serve: readable start-up lines naming the URL, the store and /docs; the first-run block is not interleaved with them', async () => {
  const setup = await backends[0]!.prepare();
  try {
    await serving(setup, async (base, stdout) => {
      const lines = stdout.split('\n');
      assert.ok(lines.some((line) => line.endsWith(`INFO: VBAPI server ready on ${base}, using the embedded store in ${setup.config.dataDir}; API reference: ${base}/docs {"url":"${base}","store":"pglite"}`)), stdout);
      assert.ok(!lines.some((line) => line.startsWith('{')), 'LOG_FORMAT=pretty: no JSON lines');
      const block = stdout.slice(stdout.indexOf('First run:'), stdout.indexOf('(log in under Authentication'));
      assert.match(block, /API key: +vba_/);
      assert.doesNotMatch(block, /^\[\d\d:\d\d:\d\d\.\d{3}\]/m, 'no log line inside the first-run block');
      assert.ok(stdout.indexOf('First run:') > stdout.indexOf('VBAPI server ready'), 'the block comes after the start-up lines');
    }, { LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' });
  } finally {
    await setup.cleanup();
  }
});

/** Runs `vbapi serve` until `work` is done, then stops it with SIGTERM and expects a clean exit. */
async function serving<T>(setup: StoreSetup, work: (base: string, stdout: string) => Promise<T>, env: Record<string, string> = {}): Promise<T> {
  const port = await freePort();
  const server = start(['serve', '--port', String(port)], { ...storeEnv(setup), ...env });
  let stdout = '';
  let stderr = '';
  server.stdout!.on('data', (chunk) => (stdout += chunk));
  server.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => server.on('close', resolve));
  let result: T;
  try {
    await waitFor(`http://127.0.0.1:${port}/healthz`);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the first-run message follows the listen
    result = await work(`http://127.0.0.1:${port}`, stdout);
  } finally {
    server.kill('SIGTERM');
  }
  assert.equal(await exited, 0, stderr);
  return result;
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
