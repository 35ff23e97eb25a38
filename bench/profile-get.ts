/**
 * `npm run bench:profile-get`: where a single-record GET spends the server's CPU. Starts `vbapi
 * serve` under `node --cpu-prof` on PostgreSQL (BENCH_STORE=pglite for the embedded store), loads
 * `GET /groups/{groupID}` with autocannon (10 connections, 5 s, another process), stops the server
 * and prints the profile's self time by function and by file, plus idle and garbage collection.
 * VBAPI_ROOT runs another checkout's server (to compare before/after on the same machine).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backends } from '../test/support/backends.js';
import { demoHeaders } from '../test/support/server-process.js';
import { group } from '../test/support/records.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SERVER_ROOT = process.env.VBAPI_ROOT ?? ROOT;
const backend = backends.find((candidate) => candidate.name === (process.env.BENCH_STORE ?? 'postgres'))!;
const setup = await backend.prepare();
const profiles = mkdtempSync(join(tmpdir(), 'vbapi-prof-'));
const port = 20_000 + Math.floor(Math.random() * 30_000);
const storeEnv = setup.config.databaseUrl ? { DATABASE_URL: setup.config.databaseUrl } : { VBAPI_DATA_DIR: setup.config.dataDir };
const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profiles}`, '--import', 'tsx', `${SERVER_ROOT}src/cli/main.ts`, 'serve'], {
  cwd: SERVER_ROOT,
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
const put = await fetch(`${base}/groups-batch`, { method: 'PUT', headers, body: JSON.stringify([group('PROF')]) });
if (put.status !== 207) throw new Error(`seeding: ${put.status}`);
const args = ['-c', '10', '-d', '5', '-j', ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}=${value}`]), `${base}/groups/PROF`];
const result = await new Promise<string>((resolve) => {
  const load = spawn(process.execPath, [`${ROOT}node_modules/autocannon/autocannon.js`, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
  let text = '';
  load.stdout.on('data', (chunk) => (text += chunk));
  load.on('close', () => resolve(text));
});
const load = JSON.parse(result) as { requests: { average: number }; latency: { p50: number; p99: number } };
const stopping = performance.now();
await new Promise((resolve) => {
  child.once('close', resolve);
  child.kill('SIGTERM');
});
const shutdownMs = performance.now() - stopping;
await setup.cleanup();

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const file = readdirSync(profiles).filter((name) => name.endsWith('.cpuprofile')).map((name) => join(profiles, name))
  .sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0]!; // the main thread's (the largest)
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
rmSync(profiles, { recursive: true, force: true });
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
// Only the samples of the 5 s under load: the profile also covers start-up (module loading) and shutdown.
const times: number[] = [];
let clock = 0;
for (const delta of profile.timeDeltas) times.push((clock += delta));
const to = clock - shutdownMs * 1000;
const from = to - 5_000_000;
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
  const label = name.startsWith('(') && !node.callFrame.url ? name : `${name} (${where(node)})`;
  functions.set(label, (functions.get(label) ?? 0) + time);
  const group = name.startsWith('(') && !node.callFrame.url ? name : where(node);
  files.set(group, (files.get(group) ?? 0) + time);
}
const top = (map: Map<string, number>, count: number) =>
  [...map].sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, time]) => `| ${name} | ${((time / total) * 100).toFixed(1)} % |`);
console.log(`GET /groups/{groupID} on ${backend.name}, server ${SERVER_ROOT === ROOT ? 'this checkout' : SERVER_ROOT}: ` +
  `${Math.round(load.requests.average)} requests/s, p50 ${load.latency.p50} ms, p99 ${load.latency.p99} ms; profile ${(total / 1e6).toFixed(1)} s`);
console.log('\n| self time by module | share |\n|---|---:|');
for (const line of top(files, 12)) console.log(line);
console.log('\n| self time by function | share |\n|---|---:|');
for (const line of top(functions, 15)) console.log(line);
