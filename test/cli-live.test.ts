import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Secret, TOTP } from 'otpauth';
import { startServer, type ServerProcess } from './support/server-process.js';

/**
 * The administration commands of `vbapi` against a running `vbapi serve` on the embedded store
 * (which the server owns: the commands reach it over <data dir>/control.sock), each checked by its
 * effect over HTTP; then the same commands with no server running (the store opened directly, a
 * dead server's socket file lying around), and a restart over that stale socket file.
 */

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let dataDir = '';
let server: ServerProcess | null = null;
let base = '';

function vbapi(args: string[], input?: string): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { ...process.env, VBAPI_DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'warn' },
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) child.stdin!.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function ok(args: string[], input?: string): Promise<string> {
  const run = await vbapi(args, input);
  assert.equal(run.code, 0, `vbapi ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

async function fails(args: string[], code: number, pattern: RegExp): Promise<void> {
  const run = await vbapi(args);
  assert.equal(run.code, code, `vbapi ${args.join(' ')}: ${run.stdout}${run.stderr}`);
  assert.match(run.stderr, pattern);
}

/** The rows of a tab-separated listing (its header line first), as objects. */
function rows(listing: string): Record<string, string>[] {
  const [header, ...lines] = listing.trimEnd().split('\n').map((line) => line.split('\t'));
  return lines.map((cells) => Object.fromEntries(header!.map((name, index) => [name, cells[index]!])));
}

interface Login {
  readonly key: string;
  readonly clientId: string;
  readonly clientCode: string;
  readonly username: string;
  readonly password: string;
  readonly database: string;
}

async function login(who: Login): Promise<{ status: number; data: { challengeName: string | null; authenticationResult: { idToken: string } | null } }> {
  const response = await fetch(`${base}/user-authentication`, {
    method: 'POST',
    headers: {
      'x-api-key': who.key,
      authorization: `Basic ${Buffer.from(`${who.username}:${who.password}`).toString('base64')}`,
      'vbasoftware-client-id': who.clientId,
      'vbasoftware-client-code': who.clientCode,
      'vbasoftware-database': who.database,
      'user-agent': 'tests',
    },
  });
  const body = (await response.json()) as { data: never };
  return { status: response.status, data: body.data };
}

async function token(who: Login): Promise<string> {
  const answer = await login(who);
  assert.equal(answer.status, 200);
  assert.equal(answer.data.challengeName, null, 'a permanent password: tokens at once');
  return answer.data.authenticationResult!.idToken;
}

/** GET `path` (any user may list groups; /users needs an administrator) with a token: 401 once its session ended. */
async function get(who: Login, idToken: string, path = '/groups'): Promise<number> {
  const response = await fetch(`${base}${path}`, {
    headers: { 'x-api-key': who.key, authorization: `Bearer ${idToken}`, 'vbasoftware-database': who.database, 'user-agent': 'tests' },
  });
  await response.arrayBuffer();
  return response.status;
}

async function serve(): Promise<void> {
  // startServer picks the port (and checks it answers).
  server = await startServer({ config: { dataDir, databaseUrl: undefined }, cleanup: async () => undefined }, { LOG_LEVEL: 'info' });
  base = server.base;
}

async function stop(signal: NodeJS.Signals): Promise<number | null> {
  const running = server!;
  server = null;
  running.child.kill(signal);
  return running.exited;
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('vbapi administration commands while vbapi serve runs on the embedded store, and without it', () => {
  const acme = { clientId: 'acme', clientCode: 'ACME-1', database: 'one' };
  let key = '';
  let keyId = '';
  const alice: { password: string } = { password: 'alice long password' };
  const as = (username: string, password: string, database = acme.database): Login => ({ ...acme, key, username, password, database });

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'vbapi-cli-live-'));
    await serve();
  });
  after(async () => {
    if (server) await stop('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  test('the server listens on <data dir>/control.sock, a socket only its owner may use (0600)', () => {
    const socket = statSync(join(dataDir, 'control.sock'));
    assert.ok(socket.isSocket());
    assert.equal(socket.mode & 0o777, 0o600);
  });

  test('client, key and database commands run by the server: effects seen over HTTP, the key never listed', async () => {
    assert.equal(await ok(['client', 'create', acme.clientId, '--code', acme.clientCode]), 'created client acme\n');
    const clients = rows(await ok(['client', 'list']));
    assert.deepEqual(clients.map((client) => [client.client, client.code, client.keys, client.users]), [['acme', 'ACME-1', '0', '0'], ['demo', 'demo', '1', '1']]);
    const created = (await ok(['key', 'create', 'acme'])).trimEnd().split('\n');
    key = created.at(-1)!;
    keyId = /created API key ([0-9a-f]{8})/.exec(created[0]!)![1]!;
    assert.equal(await ok(['database', 'create', 'one']), 'created database one\n');
    assert.match(await ok(['database', 'list']), /^demo\tpglite\none\tpglite\n$/);
    const keys = await ok(['key', 'list', 'acme']);
    assert.ok(!keys.includes(key), 'never the key itself');
    assert.deepEqual(rows(keys).map((row) => [row.id, row.prefix, row['last used'], row.revoked]), [[keyId, key.slice(0, 12), '-', '-']]);
    await fails(['key', 'list', 'nobody'], 1, /^vbapi: no client "nobody"\n$/);
  });

  test('user create: --password-stdin and --administrator; a password set here is permanent, unless --temporary', async () => {
    assert.equal(await ok(['user', 'create', 'acme', 'alice', '--password-stdin', '--database', 'one', '--administrator'], `${alice.password}\n`), 'created user alice of client acme\n');
    await ok(['user', 'create', 'acme', 'bob', '--password', 'bob temporary pw', '--database', 'one', '--temporary']);
    await ok(['user', 'create', 'acme', 'carol', '--password', 'carol long password', '--database', 'one']);
    const idToken = await token(as('alice', alice.password));
    assert.equal(await get(as('alice', alice.password), idToken, '/users'), 200, 'alice is an administrator');
    const bob = await login(as('bob', 'bob temporary pw'));
    assert.deepEqual([bob.status, bob.data.challengeName], [200, 'NEW_PASSWORD_REQUIRED']);
    await fails(['user', 'create', 'acme', 'a'.repeat(17), '--password', 'long enough pw', '--database', 'one'], 1, /invalid username/);
    const users = rows(await ok(['user', 'list', 'acme']));
    assert.deepEqual(
      users.map((user) => [user.username, user.administrator, user.disabled, user.locked, user.temporary, user.mfa, user.databases]),
      [['alice', 'yes', 'no', 'no', 'no', 'no', 'one'], ['bob', 'no', 'no', 'no', 'yes', 'no', 'one'], ['carol', 'no', 'no', 'no', 'no', 'no', 'one']],
    );
  });

  test('key list shows when a key was last used, once a request used it', async () => {
    await eventually(async () => rows(await ok(['key', 'list', 'acme']))[0]!['last used'] !== '-', 'last used after a login');
    const lastUsed = rows(await ok(['key', 'list', 'acme']))[0]!['last used']!;
    assert.ok(Math.abs(Date.parse(lastUsed) - Date.now()) < 60_000, lastUsed);
  });

  test('user disable: login refused and the existing token dead at once; enable lets the user in again', async () => {
    const who = as('alice', alice.password);
    const idToken = await token(who);
    assert.equal(await get(who, idToken), 200);
    assert.equal(await ok(['user', 'disable', 'acme', 'alice']), 'disabled user alice of client acme and ended their sessions\n');
    assert.equal(await get(who, idToken), 401, 'the session ended');
    assert.equal((await login(who)).status, 401);
    assert.equal(rows(await ok(['user', 'list', 'acme']))[0]!.disabled, 'yes');
    await ok(['user', 'enable', 'acme', 'alice']);
    await token(who);
    await fails(['user', 'disable', 'acme', 'nobody'], 1, /^vbapi: no user "nobody" in client "acme"\n$/);
  });

  test('user reset-password: the old password and token stop working; the new one, printed once, is temporary', async () => {
    const old = as('alice', alice.password);
    const idToken = await token(old);
    const output = (await ok(['user', 'reset-password', 'acme', 'alice'])).trimEnd().split('\n');
    const password = output.at(-1)!;
    assert.match(output[0]!, /shown only now/);
    assert.match(password, /^\S{12,}$/);
    assert.equal(await get(old, idToken), 401, 'sessions ended');
    assert.equal((await login(old)).status, 401, 'the old password no longer works');
    const fresh = await login(as('alice', password));
    assert.deepEqual([fresh.status, fresh.data.challengeName], [200, 'NEW_PASSWORD_REQUIRED']);
    assert.equal(rows(await ok(['user', 'list', 'acme']))[0]!.temporary, 'yes');
    alice.password = password;
  });

  test('user mfa-disable: a user whose MFA device is lost logs in with the password alone again', async () => {
    const carol = as('carol', 'carol long password');
    const idToken = await token(carol);
    const call = async (path: string, body: unknown) => {
      const response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'x-api-key': key, authorization: `Bearer ${idToken}`, 'vbasoftware-database': carol.database, 'user-agent': 'tests', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, data: ((await response.json()) as { data: { secretCode?: string } }).data };
    };
    const setup = await call('/mfa-setup', { accessToken: idToken });
    assert.equal(setup.status, 200);
    const userCode = TOTP.generate({ secret: Secret.fromBase32(setup.data.secretCode!) });
    assert.equal((await call('/mfa-verify-setup', { friendlyDeviceName: 'lost phone', accessToken: idToken, userCode })).status, 200);
    assert.equal((await login(carol)).data.challengeName, 'SOFTWARE_TOKEN_MFA');
    assert.equal(rows(await ok(['user', 'list', 'acme'])).find((user) => user.username === 'carol')!.mfa, 'yes');
    assert.equal(await ok(['user', 'mfa-disable', 'acme', 'carol']), 'MFA disabled for user carol of client acme; their device is forgotten\n');
    await token(carol);
    assert.equal(await ok(['user', 'mfa-disable', 'acme', 'carol']), 'user carol of client acme had no MFA device\n');
    await fails(['user', 'mfa-disable', 'acme', 'nobody'], 1, /^vbapi: no user "nobody" in client "acme"\n$/);
  });

  test('database drop: refused without --yes and while users are granted it; --force drops it, its grants and sessions, and its files', async () => {
    const carol = as('carol', 'carol long password');
    const idToken = await token(carol);
    const before = await readdir(join(dataDir, 'databases'));
    await fails(['database', 'drop', 'one'], 2, /confirm with --yes/);
    await fails(['database', 'drop', 'one', '--yes'], 1, /is granted to 3 user\(s\) \(acme\/alice, acme\/bob, acme\/carol\); give --force/);
    assert.equal(await get(carol, idToken), 200, 'nothing dropped yet');
    assert.equal(await ok(['database', 'drop', 'one', '--yes', '--force']), 'dropped database one and 3 user grant(s)\n');
    assert.equal(await ok(['database', 'list']), 'demo\tpglite\n');
    assert.equal(await get(carol, idToken), 401, 'its sessions ended');
    assert.equal((await login(carol)).status, 403, 'no longer granted');
    assert.equal((await readdir(join(dataDir, 'databases'))).length, before.length - 1, 'its files are gone');
    assert.equal(rows(await ok(['user', 'list', 'acme']))[2]!.databases, '-');
    await fails(['database', 'drop', 'registry', '--yes'], 1, /^vbapi: no database "registry"\n$/);
    await fails(['database', 'drop', '../registry', '--yes'], 1, /^vbapi: no database "\.\.\/registry"\n$/);
  });

  test('key revoke through the server: the key stops working at once', async () => {
    await ok(['database', 'create', 'two']);
    await ok(['user', 'grant', 'acme', 'carol', '--database', 'two']);
    const carol = as('carol', 'carol long password', 'two');
    await token(carol);
    assert.match(await ok(['key', 'revoke', keyId]), new RegExp(`^revoked API key ${keyId}\n$`));
    assert.equal((await login(carol)).status, 401);
    assert.notEqual(rows(await ok(['key', 'list', 'acme']))[0]!.revoked, '-');
  });

  test('usage mistakes are caught before the server is asked; the server never logs a password', async () => {
    await fails(['user', 'disable', 'acme'], 2, /^vbapi: usage: vbapi user disable <clientId> <username>\n$/);
    await fails(['database', 'drop', 'two', '--frob'], 2, /unknown option "--frob"/);
    const log = server!.stdout();
    assert.match(log, /"command":"user reset-password","exitCode":0/);
    assert.ok(!log.includes(alice.password) && !log.includes('alice long password') && !log.includes('bob temporary pw'), 'no password in the log');
  });

  test('without a server (killed: its socket file stays behind) the commands open the store directly; a restart removes the stale socket', async () => {
    assert.equal(await stop('SIGKILL'), null);
    assert.ok(existsSync(join(dataDir, 'control.sock')), 'kill -9 leaves the socket file');
    await ok(['client', 'create', 'beta', '--code', 'B']);
    const key2 = (await ok(['key', 'create', 'acme'])).trimEnd().split('\n').at(-1)!;
    key = key2;
    assert.equal(rows(await ok(['client', 'list'])).length, 3);
    assert.equal(rows(await ok(['key', 'list', 'acme'])).length, 2);
    await ok(['user', 'create', 'acme', 'dave', '--password-stdin', '--database', 'two'], 'dave long password\n');
    await ok(['user', 'disable', 'acme', 'carol']);
    const reset = (await ok(['user', 'reset-password', 'acme', 'dave'])).trimEnd().split('\n').at(-1)!;
    await ok(['database', 'create', 'three']);
    await ok(['database', 'drop', 'three', '--yes']);
    assert.deepEqual(rows(await ok(['user', 'list', 'acme'])).map((user) => [user.username, user.disabled, user.temporary]), [
      ['alice', 'no', 'yes'],
      ['bob', 'no', 'yes'],
      ['carol', 'yes', 'no'],
      ['dave', 'no', 'yes'],
    ]);
    assert.equal(await ok(['database', 'list']), 'demo\tpglite\ntwo\tpglite\n');

    await serve(); // over the dead server's socket file
    assert.equal(statSync(join(dataDir, 'control.sock')).mode & 0o777, 0o600);
    assert.equal((await login(as('carol', 'carol long password', 'two'))).status, 401, 'disabled while no server ran');
    const dave = await login(as('dave', reset, 'two'));
    assert.deepEqual([dave.status, dave.data.challengeName], [200, 'NEW_PASSWORD_REQUIRED']);
    await ok(['user', 'enable', 'acme', 'carol']); // through the new server's socket
    await token(as('carol', 'carol long password', 'two'));
    assert.equal(await stop('SIGTERM'), 0);
    assert.ok(!existsSync(join(dataDir, 'control.sock')), 'a clean stop removes the socket');
    assert.ok(!existsSync(join(dataDir, '.lock')), 'and releases the lock');
  });
});
