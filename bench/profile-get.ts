/**
 * `npm run bench:profile-get`: where a single-record GET spends the server's CPU. Starts `vbapi
 * serve` under `node --cpu-prof` on PostgreSQL (BENCH_STORE=pglite for the embedded store), loads
 * `GET /groups/{groupID}` with autocannon (10 connections, 5 s, another process), stops the server
 * and prints the profile's self time by function and by file, plus idle and garbage collection.
 * VBAPI_ROOT runs another checkout's server (to compare before/after on the same machine).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { backends } from '../test/support/backends.js';
import { printProfile, startProfiledServer, summariseProfile } from './cpu-profile.js';
import { group } from '../test/support/records.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SERVER_ROOT = process.env.VBAPI_ROOT ?? ROOT;
const backend = backends.find((candidate) => candidate.name === (process.env.BENCH_STORE ?? 'postgres'))!;
const setup = await backend.prepare();
const { base, headers, profiles, stop } = await startProfiledServer(setup, SERVER_ROOT);
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
const shutdownMs = await stop();
await setup.cleanup();

const summary = summariseProfile(profiles, 5_000_000, shutdownMs * 1000, { modules: 12, functions: Number(process.env.PROFILE_ROWS ?? 15) });
console.log(`GET /groups/{groupID} on ${backend.name}, server ${SERVER_ROOT === ROOT ? 'this checkout' : SERVER_ROOT}: ` +
  `${Math.round(load.requests.average)} requests/s, p50 ${load.latency.p50} ms, p99 ${load.latency.p99} ms; profile ${summary.seconds.toFixed(1)} s`);
printProfile(summary);
