/**
 * `npm run bench:profile-batch`: where a batch upsert spends the server's CPU, and how long the
 * server holds it. Starts `vbapi serve` under `node --cpu-prof` (PostgreSQL; BENCH_STORE=pglite for
 * the embedded store), sends BENCH_KIND batches ("groups", "full groups" or "benefits"; default
 * full groups) of BENCH_SIZE records (default 10,000), each twice (new keys, then the same again),
 * BENCH_RUNS times (default 3), one at a time; prints the median time per batch and the profile
 * of those batches: self time by module and by function, idle and garbage collection included.
 */
import { backends } from '../test/support/backends.js';
import { KINDS, PATH, records, type Kind } from './batch-records.js';
import { printProfile, startProfiledServer, summariseProfile } from './cpu-profile.js';
import { putBytes } from './http-put.js';

const kind = (process.env.BENCH_KIND ?? 'full groups') as Kind;
if (!KINDS.includes(kind)) throw new Error(`BENCH_KIND must be one of ${KINDS.join(', ')}`);
const size = Number(process.env.BENCH_SIZE ?? 10_000);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const ROOT = new URL('../', import.meta.url).pathname;
const backend = backends.find((candidate) => candidate.name === (process.env.BENCH_STORE ?? 'postgres'))!;
const setup = await backend.prepare();
const { base, headers, profiles, stop } = await startProfiledServer(setup, ROOT);
const put = async (path: string, text: string) => {
  const body = Buffer.from(text);
  const started = performance.now();
  const response = await putBytes(`${base}${path}`, headers, body);
  if (response.status !== 207) throw new Error(`${path}: ${response.status}`);
  return performance.now() - started;
};
await put('/benefit-categories-batch', JSON.stringify([{ benefit_Category: 'BENCH' }]));
await put(`/${PATH[kind]}-batch`, JSON.stringify(records(kind, 100, 'WARM'))); // opens the tenant database
const times: number[] = [];
const loadStarted = performance.now();
for (let run = 0; run < runs; run++) {
  const body = JSON.stringify(records(kind, size, `P${run}`));
  times.push(await put(`/${PATH[kind]}-batch`, body), await put(`/${PATH[kind]}-batch`, body));
}
const loadMs = performance.now() - loadStarted;
const shutdownMs = await stop();
await setup.cleanup();

const summary = summariseProfile(profiles, loadMs * 1000, shutdownMs * 1000);
const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
console.log(`PUT /${PATH[kind]}-batch, ${size} ${kind}, on ${backend.name}: median ${median.toFixed(0)} ms a batch ` +
  `(${Math.round((size / median) * 1000)} records/s); profile ${summary.seconds.toFixed(1)} s over ${times.length} batches`);
printProfile(summary);
