import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StoreSetup } from './backends.js';
import { freePort } from './ports.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly base: string;
  /** Output so far (the first run prints the demo credentials here). */
  stdout(): string;
  exited: Promise<number | null>;
}

/**
 * `vbapi serve` as its own process on a free port, ready when /healthz answers. `wrap` puts a
 * command in front of node (e.g. `unshare … ` to run it as PID 1 of its own PID namespace).
 */
export async function startServer(setup: StoreSetup, env: Record<string, string> = {}, wrap: readonly string[] = []): Promise<ServerProcess> {
  const port = await freePort();
  const storeEnv: Record<string, string> = setup.config.databaseUrl ? { DATABASE_URL: setup.config.databaseUrl } : { VBAPI_DATA_DIR: setup.config.dataDir };
  const argv = [process.execPath, '--import', 'tsx', MAIN, 'serve'];
  const child = spawn(wrap[0] ?? argv[0]!, [...wrap.slice(1), ...(wrap.length ? argv : argv.slice(1))], {
    env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn', VBAPI_RATE_LIMIT: 'off', ...storeEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000; // a first start creates two PGlite databases: slow on a loaded machine
  for (;;) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      // not yet listening
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      // A server that comes up after the deadline would otherwise outlive the test and keep its file from ending.
      child.kill('SIGKILL');
      throw new Error(`server did not start: ${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 100)); // the first-run message follows the listen
  return { child, base, stdout: () => out, exited };
}

export interface DemoCredentials {
  readonly key: string;
  readonly password: string;
}

/**
 * Logs in as the demo user, with the credentials a first run printed (`source` is that output) or
 * given; returns the headers of an authenticated call.
 */
export async function demoHeaders(
  base: string,
  source: string | DemoCredentials,
): Promise<{ headers: Record<string, string>; credentials: DemoCredentials }> {
  const key = typeof source === 'string' ? /API key: +(\S+)/.exec(source)?.[1] : source.key;
  const password = typeof source === 'string' ? /password: +(\S+)/.exec(source)?.[1] : source.password;
  if (!key || !password) throw new Error(`no demo credentials in: ${String(source)}`);
  const login = await fetch(`${base}/user-authentication`, {
    method: 'POST',
    headers: {
      'x-api-key': key,
      authorization: `Basic ${Buffer.from(`demo:${password}`).toString('base64')}`,
      'vbasoftware-client-id': 'demo',
      'vbasoftware-client-code': 'demo',
      'vbasoftware-database': 'demo',
      'user-agent': 'tests',
    },
  });
  if (login.status !== 200) throw new Error(`demo login failed: ${login.status}`);
  const token = ((await login.json()) as { data: { authenticationResult: { idToken: string } } }).data.authenticationResult.idToken;
  return {
    headers: { 'x-api-key': key, authorization: `Bearer ${token}`, 'vbasoftware-database': 'demo', 'user-agent': 'tests', 'content-type': 'application/json' },
    credentials: { key, password },
  };
}
