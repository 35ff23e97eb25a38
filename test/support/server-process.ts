import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StoreSetup } from './backends.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly base: string;
  /** Output so far (the first run prints the demo credentials here). */
  stdout(): string;
  exited: Promise<number | null>;
}

/** `vbapi serve` as its own process on a free port, ready when /healthz answers. */
export async function startServer(setup: StoreSetup, env: Record<string, string> = {}): Promise<ServerProcess> {
  const port = 20_000 + Math.floor(Math.random() * 30_000);
  const storeEnv: Record<string, string> = setup.config.databaseUrl ? { DATABASE_URL: setup.config.databaseUrl } : { VBAPI_DATA_DIR: setup.config.dataDir };
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve'], {
    env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn', VBAPI_RATE_LIMIT: 'off', ...storeEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      // not yet listening
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start: ${out}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 100)); // the first-run message follows the listen
  return { child, base, stdout: () => out, exited };
}

/** Logs in with the demo credentials a first run printed; returns the headers of an authenticated call. */
export async function demoHeaders(server: ServerProcess, credentials?: { key: string; password: string }): Promise<{ headers: Record<string, string>; credentials: { key: string; password: string } }> {
  const key = credentials?.key ?? /API key: +(\S+)/.exec(server.stdout())?.[1];
  const password = credentials?.password ?? /password: +(\S+)/.exec(server.stdout())?.[1];
  if (!key || !password) throw new Error(`no demo credentials in: ${server.stdout()}`);
  const login = await fetch(`${server.base}/user-authentication`, {
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
  const token = ((await login.json()) as { data: { authenticationResult: { idToken: string } } }).data.authenticationResult.idToken;
  return {
    headers: { 'x-api-key': key, authorization: `Bearer ${token}`, 'vbasoftware-database': 'demo', 'user-agent': 'tests', 'content-type': 'application/json' },
    credentials: { key, password },
  };
}
