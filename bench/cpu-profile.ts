/**
 * A CPU profile (`node --cpu-prof`) of the server summarised as self time by module and by
 * function, over a window of the run (the load, not start-up or shutdown). Shared by the
 * bench:profile-* scripts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { StoreSetup } from '../test/support/backends.js';
import { freePort } from '../test/support/ports.js';
import { demoHeaders } from '../test/support/server-process.js';

/**
 * `vbapi serve` from the checkout at `root` under `node --cpu-prof`, on `setup`'s store, rate limit
 * off, logged in with the first-run credentials. `stop` ends it (SIGTERM) and resolves with how
 * long the shutdown took, so the summary can leave it out; the profile is then in `profiles`.
 */
export async function startProfiledServer(setup: StoreSetup, root: string) {
  const profiles = mkdtempSync(join(tmpdir(), 'vbapi-prof-'));
  const port = await freePort();
  const storeEnv = setup.config.databaseUrl ? { DATABASE_URL: setup.config.databaseUrl } : { VBAPI_DATA_DIR: setup.config.dataDir };
  const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profiles}`, '--import', 'tsx', `${root}src/cli/main.ts`, 'serve'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn', VBAPI_RATE_LIMIT: 'off', ...storeEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const base = `http://127.0.0.1:${port}`;
  for (;;) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  const { headers } = await demoHeaders(base, out);
  const stop = async (): Promise<number> => {
    const stopping = performance.now();
    await new Promise((resolve) => {
      child.once('close', resolve);
      child.kill('SIGTERM');
    });
    return performance.now() - stopping;
  };
  return { base, headers, profiles, stop };
}

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

export interface ProfileSummary {
  /** Seconds of profile inside the window. */
  seconds: number;
  byModule: string[];
  byFunction: string[];
}

/**
 * The main thread's profile in `directory` (the largest file), its samples from `windowUs` before
 * `endsBeforeEndUs` microseconds before the profile's end; the directory is removed.
 */
export function summariseProfile(directory: string, windowUs: number, endsBeforeEndUs: number, rows = { modules: 12, functions: 15 }): ProfileSummary {
  const file = readdirSync(directory).filter((name) => name.endsWith('.cpuprofile')).map((name) => join(directory, name))
    .sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0]!;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  rmSync(directory, { recursive: true, force: true });
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const times: number[] = [];
  let clock = 0;
  for (const delta of profile.timeDeltas) times.push((clock += delta));
  const to = clock - endsBeforeEndUs;
  const from = to - windowUs;
  const self = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    if (times[index]! >= from && times[index]! <= to) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  const total = [...self.values()].reduce((sum, value) => sum + value, 0);
  const where = (node: Node) => {
    const url = node.callFrame.url;
    if (!url) return '(native)';
    const path = url.replace(/^file:\/\//, '');
    const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    if (modules) return modules[1]!;
    if (path.startsWith('node:')) return path;
    return path.includes('/src/') ? `src/${path.split('/src/')[1]}` : basename(path);
  };
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, time] of self) {
    const node = byId.get(id)!;
    const name = node.callFrame.functionName || '(anonymous)';
    const native = name.startsWith('(') && !node.callFrame.url;
    const label = native ? name : `${name} (${where(node)})`;
    functions.set(label, (functions.get(label) ?? 0) + time);
    const group = native ? name : where(node);
    files.set(group, (files.get(group) ?? 0) + time);
  }
  const top = (map: Map<string, number>, count: number) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, time]) => `| ${name} | ${((time / total) * 100).toFixed(1)} % |`);
  return { seconds: total / 1e6, byModule: top(files, rows.modules), byFunction: top(functions, rows.functions) };
}

/** The summary as the Markdown tables the bench:profile-* scripts print. */
export function printProfile(summary: ProfileSummary): void {
  console.log('\n| self time by module | share |\n|---|---:|');
  for (const line of summary.byModule) console.log(line);
  console.log('\n| self time by function | share |\n|---|---:|');
  for (const line of summary.byFunction) console.log(line);
}
