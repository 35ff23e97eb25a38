/**
 * `npm run bench`: the server against its store's own limit, on PostgreSQL and on PGlite.
 * A script, not a test: it prints Markdown tables (paste them into BENCHMARKS.md), then each of
 * issue 15's targets with its figure and met/missed; it asserts nothing. Each figure is the median
 * of BENCH_RUNS runs (default 5) after BENCH_WARMUP uncounted ones (default 1) on both sides;
 * BENCH_ONLY=postgres|pglite runs one store. The server runs as its
 * own process (`vbapi serve`), loaded over loopback; the direct baselines run after the server has
 * stopped: the batch statements in this process, the GET baseline in its own (bench/get-baseline.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import pino from 'pino';
import { statements } from '../src/derive/sql.js';
import { recordValidator, rowsJson, type Row } from '../src/derive/validate.js';
import { entityNamed } from '../src/entities/index.js';
import { withDatabaseName } from '../src/store/postgres.js';
import { Store } from '../src/store/store.js';
import { backends, type StoreSetup } from '../test/support/backends.js';
import { demoHeaders, startServer as startServerProcess, type DemoCredentials } from '../test/support/server-process.js';
import { ENTITY, KINDS, PATH, records, type Kind } from './batch-records.js';
import { putBytes } from './http-put.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/**
 * Batches run and not counted before each kind and size, through the API and through the driver
 * alike: the first batch of a kind pays for compiling its code paths and planning its statements
 * on a fresh connection, which is a start-up cost, not throughput (it had been one run in three).
 */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
const ONLY = process.env.BENCH_ONLY;
const SIZES = [1_000, 10_000];
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const rate = (records: number, ms: number) => Math.round((records / ms) * 1000);
const fmt = (value: number) => value.toLocaleString('en-US');
const load = () => loadavg().map((value) => value.toFixed(1)).join(', ');

interface Server {
  child: ChildProcess;
  base: string;
  headers: Record<string, string>;
  credentials: DemoCredentials;
}

/** `vbapi serve` as its own process, rate limit off, logged in with the first run's credentials. */
async function startServer(setup: StoreSetup, credentials?: DemoCredentials): Promise<Server> {
  const server = await startServerProcess(setup);
  const login = await demoHeaders(server.base, credentials ?? server.stdout());
  return { child: server.child, base: server.base, headers: login.headers, credentials: login.credentials };
}

/** The body's bytes are made before the clock starts, as a client sending a file or a buffer has them (see http-put.ts). */
async function put(server: Server, path: string, text: string, allowFailures = false): Promise<{ ms: number; statuses: number[] }> {
  const body = Buffer.from(text);
  const started = performance.now();
  const response = await putBytes(`${server.base}${path}`, server.headers, body);
  const json = JSON.parse(response.text) as { data: { status: number }[] };
  const ms = performance.now() - started;
  if (response.status !== 207) throw new Error(`${path}: ${response.status} ${JSON.stringify(json).slice(0, 300)}`);
  const statuses = json.data.map((entry) => entry.status);
  if (!allowFailures && statuses.some((status) => status !== 200 && status !== 201)) {
    throw new Error(`${path}: a record failed: ${JSON.stringify(json.data.find((entry) => entry.status >= 300))}`);
  }
  return { ms, statuses };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('close', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Peak RSS (kB) of a process since the last reset; writing 5 to clear_refs resets it (Linux). */
const peakRss = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
const resetPeak = (pid: number) => writeFileSync(`/proc/${pid}/clear_refs`, '5');

interface Load {
  rps: number;
  p50: number;
  p99: number;
}

/** A child process's one line of JSON output. */
function jsonFrom(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`))));
  });
}

/** autocannon from a second process: requests/s and latency percentiles. */
async function autocannon(url: string, headers: Record<string, string>): Promise<Load> {
  const args = ['-c', '10', '-d', '5', '-j', ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}=${value}`]), url];
  const result = JSON.parse(await jsonFrom([`${ROOT}node_modules/autocannon/autocannon.js`, ...args])) as {
    requests: { average: number };
    latency: { p50: number; p99: number };
    non2xx: number;
  };
  if (result.non2xx) throw new Error(`${url}: ${result.non2xx} non-2xx answers`);
  return { rps: Math.round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99 };
}

/** A primary-key query (the columns, or with `json` the API's own JSON one), prepared, straight through the driver from 10 connections in another process. */
async function getBaseline(setup: StoreSetup, key: string, variant: 'columns' | 'json' = 'columns'): Promise<Load> {
  const location = await tenantLocation(setup);
  const args = setup.config.databaseUrl ? ['postgres', withDatabaseName(setup.config.databaseUrl, location)] : ['pglite', join(setup.config.dataDir, 'databases', location)];
  return JSON.parse(await jsonFrom(['--import', 'tsx', `${ROOT}bench/get-baseline.ts`, ...args, key, ...(variant === 'json' ? ['json'] : [])])) as Load;
}

/** The tenant database's name (its location in the registry), looked up once per store. */
const locations = new Map<StoreSetup, Promise<string>>();
function tenantLocation(setup: StoreSetup): Promise<string> {
  let location = locations.get(setup);
  if (location === undefined) {
    locations.set(setup, (location = (async () => {
      const store = await Store.open(setup.config, pino({ level: 'silent' }));
      try {
        return (await store.find('demo'))!.location;
      } finally {
        await store.close();
      }
    })()));
  }
  return location;
}

/**
 * On PostgreSQL, before each measured section (through the API and through the driver alike): the
 * tenant database vacuumed and analysed, then no autovacuum worker left in it. Without this the
 * section after a large one ran beside autovacuum's work on the tables just filled, on a 2-core
 * machine, and the API (measured first) paid for it more than the baselines (measured last).
 * PGlite has no autovacuum.
 */
async function settle(setup: StoreSetup): Promise<void> {
  if (!setup.config.databaseUrl) return;
  const client = new pg.Client({ connectionString: withDatabaseName(setup.config.databaseUrl, await tenantLocation(setup)) });
  await client.connect();
  try {
    await client.query('VACUUM ANALYZE');
    const busy = async () => (await client.query<{ busy: number }>(
      `SELECT count(*)::int AS busy FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'autovacuum worker'`,
    )).rows[0]!.busy;
    for (const started = Date.now(); (await busy()) > 0 && Date.now() - started < 30_000;) await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    await client.end();
  }
}

/** The same rows upserted straight through the driver: the JSON statement, and COPY + INSERT … SELECT. */
async function baselines(setup: StoreSetup, kind: Kind, size: number, prefix: string): Promise<{ json: number[]; copy: number[] }> {
  const entity = ENTITY[kind];
  const sql = statements(entity, entityNamed);
  const validate = recordValidator(entity);
  const store = await Store.open(setup.config, pino({ level: 'silent' }));
  const db = (await store.tenant('demo'))!;
  const json: number[] = [];
  const copy: number[] = [];
  try {
    for (let run = -WARMUP; run < RUNS; run++) {
      const rows = records(kind, size, `${prefix}${run}`).map((record) => (validate(record) as { row: Row }).row);
      for (let pass = 0; pass < 2; pass++) { // new rows, then the same rows again (existing)
        let started = performance.now();
        await db.transaction((tx) => tx.query(sql.upsert, [rowsJson(entity, rows), 'bench']));
        const viaJson = performance.now() - started;
        started = performance.now();
        await db.transaction(async (tx) => {
          await tx.query(sql.staging.create);
          await tx.copyRows(entity, rows);
          await tx.query(sql.upsertFromStaging, ['bench']);
        });
        if (run < 0) continue; // warming up
        json.push(viaJson);
        copy.push(performance.now() - started);
      }
    }
  } finally {
    await store.close();
  }
  return { json, copy };
}

/**
 * From `vbapi serve` on an existing data directory to its first answered request, and to the first
 * record read: the compiled server (`node bin/vbapi.js serve`, as installed; `npm run bench` builds
 * it first), /healthz polled every 10 ms.
 */
async function firstAnswer(setup: StoreSetup, server: Server): Promise<{ healthz: number; record: number }> {
  if (!existsSync(`${ROOT}dist/cli/main.js`)) throw new Error('the compiled server is missing: npm run build');
  const port = 20_000 + Math.floor(Math.random() * 30_000);
  const started = performance.now();
  const child = spawn(process.execPath, [`${ROOT}bin/vbapi.js`, 'serve'], {
    env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn', VBAPI_RATE_LIMIT: 'off', VBAPI_DATA_DIR: setup.config.dataDir },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error('the compiled server exited before answering');
    const answered = await fetch(`${base}/healthz`).then((response) => response.ok, () => false);
    if (answered) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const healthz = performance.now() - started;
  let status = 0;
  while (status !== 200) {
    status = (await fetch(`${base}/groups/GET0000`, { headers: server.headers })).status;
    if (status === 401) server.headers = (await demoHeaders(base, server.credentials)).headers;
  }
  const record = performance.now() - started;
  await stop(child);
  return { healthz, record };
}

const lines: string[] = [];
const say = (line = '') => {
  lines.push(line);
  console.log(line);
};
const targets: { target: string; figure: string; met: boolean }[] = [];
const target = (name: string, figure: string, met: boolean) => targets.push({ target: name, figure, met });

say(`# Benchmarks — ${new Date().toISOString().slice(0, 10)}`);
say();
say(`Machine: ${cpus().length} × ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; ` +
  `PGlite ${JSON.parse(readFileSync(`${ROOT}node_modules/@electric-sql/pglite/package.json`, 'utf8')).version}; median of ${RUNS} runs after ${WARMUP} uncounted; load average at start ${load()}.`);

const throughput: Record<string, Record<string, number>> = {};
for (const backend of backends) {
  if (ONLY && backend.name !== ONLY) continue;
  if (backend.skip) {
    say(`\n${backend.name}: skipped (${backend.skip})`);
    continue;
  }
  const storeName = backend.name === 'postgres' ? 'PostgreSQL' : 'PGlite';
  const setup = await backend.prepare();
  if (backend.name === 'postgres') {
    const [row] = await (await import('../test/support/backends.js')).adminQuery<{ server_version: string }>('SHOW server_version');
    say(`PostgreSQL ${row?.server_version ?? ''}`.trim());
  }
  const server = await startServer(setup);
  await put(server, '/benefit-categories-batch', JSON.stringify([{ benefit_Category: 'BENCH' }]));
  const api: Record<string, number> = {};

  // 1. Batch throughput through the HTTP API.
  for (const kind of KINDS) {
    for (const size of SIZES) {
      const fresh: number[] = [];
      const existing: number[] = [];
      await settle(setup);
      for (let run = -WARMUP; run < RUNS; run++) {
        const body = JSON.stringify(records(kind, size, `${kind[0]!.toUpperCase()}${size / 1000}${run}`));
        const [created, updated] = [(await put(server, `/${PATH[kind]}-batch`, body)).ms, (await put(server, `/${PATH[kind]}-batch`, body)).ms];
        if (run < 0) continue; // warming up
        fresh.push(created);
        existing.push(updated);
      }
      api[`${kind} ${size} new`] = rate(size, median(fresh));
      api[`${kind} ${size} existing`] = rate(size, median(existing));
    }
  }

  // 3. One record failing in SQL (unknown category) in 1,000, against the clean batch.
  const clean: number[] = [];
  const failing: number[] = [];
  let reported = '';
  for (let run = 0; run < RUNS + 2; run++) {
    clean.push((await put(server, '/benefits-batch', JSON.stringify(records('benefits', 1000, `C${run}`)))).ms);
    const body = records('benefits', 1000, `X${run}`);
    body[500] = { ...body[500], benefit_Category: 'MISSING' };
    const answer = await put(server, '/benefits-batch', JSON.stringify(body), true);
    failing.push(answer.ms);
    const rejected = answer.statuses.flatMap((status, index) => (status === 422 ? [index] : []));
    reported = rejected.length === 1 && rejected[0] === 500 ? 'exactly record 500 reported 422' : `reported 422 at ${rejected.join(', ')}`;
  }

  // 4. Single-record GET under load, beside a bare Fastify route returning the same JSON.
  await put(server, '/groups-batch', JSON.stringify(records('groups', 1, 'GET')));
  const recordBody = await (await fetch(`${server.base}/groups/GET0000`, { headers: server.headers })).text();
  const bare = spawn(process.execPath, ['--import', 'tsx', `${ROOT}bench/bare-server.ts`], { env: { ...process.env, BODY: recordBody }, stdio: ['ignore', 'pipe', 'inherit'] });
  const bareUrl = await new Promise<string>((resolve) => bare.stdout!.once('data', (chunk) => resolve(String(chunk).trim())));
  const bareLoad = await autocannon(`${bareUrl}/groups/GET0000`, {});
  await stop(bare);
  await settle(setup);
  const loadDuringGet = load();
  const apiLoad = await autocannon(`${server.base}/groups/GET0000`, server.headers);

  // 5. Peak RSS growth of a freshly started server while it takes one 10,000-group batch (the worst
  // case: a server that has taken large batches before has a grown heap to reuse), then ten at once.
  await stop(server.child);
  const fresh = await startServer(setup, server.credentials);
  const bigBody = JSON.stringify(records('groups', 10_000, 'RSS'));
  await put(fresh, '/groups-batch', JSON.stringify(records('groups', 10, 'WARM'))); // opens the tenant database
  resetPeak(fresh.child.pid!);
  const before = peakRss(fresh.child.pid!);
  await put(fresh, '/groups-batch', bigBody);
  const growthMb = (peakRss(fresh.child.pid!) - before) / 1024;
  const bodyMb = Buffer.byteLength(bigBody) / 2 ** 20;
  resetPeak(fresh.child.pid!);
  const tenStarted = performance.now();
  await Promise.all(Array.from({ length: 10 }, (_, index) => put(fresh, '/groups-batch', JSON.stringify(records('groups', 10_000, `TEN${index}`)))));
  const tenMs = performance.now() - tenStarted;
  const tenPeakMb = peakRss(fresh.child.pid!) / 1024;
  await stop(fresh.child);

  // 6. Embedded: from `vbapi serve` on the existing data directory to the first answers.
  const startup = backend.name === 'pglite' ? await firstAnswer(setup, server) : null;

  // 2. The store's own limits, after the server has released the store.
  await settle(setup);
  const getLoad = await getBaseline(setup, 'GET0000');
  const getJsonLoad = await getBaseline(setup, 'GET0000', 'json');
  const direct: Record<string, number> = {};
  for (const kind of KINDS) {
    for (const size of SIZES) {
      await settle(setup);
      const { json, copy } = await baselines(setup, kind, size, `D${kind[0]}${size / 1000}`);
      direct[`${kind} ${size} new json`] = rate(size, median(json.filter((_, index) => index % 2 === 0)));
      direct[`${kind} ${size} existing json`] = rate(size, median(json.filter((_, index) => index % 2 === 1)));
      direct[`${kind} ${size} new copy`] = rate(size, median(copy.filter((_, index) => index % 2 === 0)));
      direct[`${kind} ${size} existing copy`] = rate(size, median(copy.filter((_, index) => index % 2 === 1)));
    }
  }
  await setup.cleanup();
  throughput[backend.name] = api;

  say(`\n## ${storeName}`);
  say('\n### Batch upserts: records/s through the API, and the same rows straight through the driver');
  say('| batch | API | JSON statement | COPY + INSERT…SELECT | API ÷ JSON | API ÷ COPY |');
  say('|---|---:|---:|---:|---:|---:|');
  const ratios: Record<number, number[]> = { 1000: [], 10000: [] };
  for (const kind of KINDS) {
    for (const size of SIZES) {
      for (const state of ['new', 'existing']) {
        const key = `${kind} ${size} ${state}`;
        const [viaApi, viaJson, viaCopy] = [api[key]!, direct[`${key} json`]!, direct[`${key} copy`]!];
        ratios[size]!.push(viaApi / viaJson);
        say(`| ${kind}, ${fmt(size)} ${state} | ${fmt(viaApi)} | ${fmt(viaJson)} | ${fmt(viaCopy)} | ${(viaApi / viaJson).toFixed(2)} | ${(viaApi / viaCopy).toFixed(2)} |`);
      }
    }
  }
  const range = (values: number[]) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}×`;
  if (backend.name === 'postgres') {
    target('PostgreSQL: 10,000-record batches ≥ 1.0× the JSON statement', range(ratios[10000]!), Math.min(...ratios[10000]!) >= 1);
    target('PostgreSQL: 1,000-record batches ≥ 0.85× the JSON statement', range(ratios[1000]!), Math.min(...ratios[1000]!) >= 0.85);
  } else {
    const all = [...ratios[1000]!, ...ratios[10000]!];
    target('PGlite: batches ≥ 0.85× its own JSON statement', range(all), Math.min(...all) >= 0.85);
  }
  const failRatio = median(failing) / median(clean);
  say('\n### One record failing in SQL (unknown category) in a 1,000-benefit batch');
  say(`Clean: ${median(clean).toFixed(1)} ms; with the failing record: ${median(failing).toFixed(1)} ms (${failRatio.toFixed(2)}×); ${reported}.`);
  target(`${storeName}: one failing record in 1,000 ≤ 1.5× the clean batch`, `${failRatio.toFixed(2)}×, ${reported}`, failRatio <= 1.5 && reported.startsWith('exactly'));
  say(`\n### Single-record GET under load (10 connections, 5 s, second process; load average ${loadDuringGet})`);
  say('| server | requests/s | p50 ms | p99 ms |');
  say('|---|---:|---:|---:|');
  say(`| bare Fastify route, same JSON from memory (autocannon) | ${fmt(bareLoad.rps)} | ${bareLoad.p50} | ${bareLoad.p99} |`);
  say(`| the primary-key query (its columns), prepared, straight through the driver | ${fmt(getLoad.rps)} | ${getLoad.p50} | ${getLoad.p99} |`);
  say(`| the API's own query (the record as JSON, written by the database), prepared, through the driver | ${fmt(getJsonLoad.rps)} | ${getJsonLoad.p50} | ${getJsonLoad.p99} |`);
  say(`| \`GET /groups/{groupID}\` (API key, token, database; autocannon) | ${fmt(apiLoad.rps)} | ${apiLoad.p50} | ${apiLoad.p99} |`);
  say(`API ÷ the API's own query through the driver: ${(apiLoad.rps / getJsonLoad.rps).toFixed(2)}; ÷ the columns query: ${(apiLoad.rps / getLoad.rps).toFixed(2)}; ÷ bare route: ${(apiLoad.rps / bareLoad.rps).toFixed(2)}`);
  // "The same primary-key query" as the API's: since the API has the database write the record as
  // JSON, that query is the baseline (the columns query, slower through the driver, is shown above).
  target(`${storeName}: GET /groups/{groupID} ≥ 0.5× the same query, prepared, through the driver`, `${(apiLoad.rps / getJsonLoad.rps).toFixed(2)}× (${fmt(apiLoad.rps)} vs ${fmt(getJsonLoad.rps)}/s; p50 ${apiLoad.p50} ms, p99 ${apiLoad.p99} ms; ${(apiLoad.rps / getLoad.rps).toFixed(2)}× the columns query)`, apiLoad.rps >= 0.5 * getJsonLoad.rps);
  say('\n### Memory while a freshly started server takes one 10,000-group batch, then ten at once');
  say(`Body ${bodyMb.toFixed(1)} MiB; peak RSS growth ${growthMb.toFixed(1)} MiB (${(growthMb / bodyMb).toFixed(2)}× the body). ` +
    `Ten such batches at once: peak RSS ${tenPeakMb.toFixed(0)} MiB, all answered in ${(tenMs / 1000).toFixed(1)} s.`);
  const limit = backend.name === 'postgres' ? 2 : 4;
  target(`${storeName}: peak RSS growth for one 10,000-group batch ≤ ${limit}× the body`, `${(growthMb / bodyMb).toFixed(2)}× (${growthMb.toFixed(1)} MiB for ${bodyMb.toFixed(1)} MiB)`, growthMb / bodyMb <= limit);
  target(`${storeName}: ten 10,000-group batches at once within 600 MB RSS`, `${fmt(Math.round(tenPeakMb * 1.048576))} MB`, tenPeakMb * 1.048576 <= 600);
  if (startup) {
    say('\n### From `vbapi serve` (compiled, `node bin/vbapi.js`) on an existing data directory to the first answers');
    say(`/healthz: ${(startup.healthz / 1000).toFixed(2)} s; first record read (tenant database opened): ${(startup.record / 1000).toFixed(2)} s.`);
    target('Embedded: `vbapi serve` to the first answered request ≤ 2 s (existing data directory)', `${(startup.healthz / 1000).toFixed(2)} s (/healthz); ${(startup.record / 1000).toFixed(2)} s to the first record read`, startup.healthz <= 2000);
  }
}

if (throughput.pglite && throughput.postgres) {
  say('\n## PGlite ÷ PostgreSQL, batch upserts through the API');
  say('| batch | PGlite records/s | PostgreSQL records/s | ratio |');
  say('|---|---:|---:|---:|');
  for (const key of Object.keys(throughput.postgres)) {
    say(`| ${key} | ${fmt(throughput.pglite[key]!)} | ${fmt(throughput.postgres[key]!)} | ${(throughput.pglite[key]! / throughput.postgres[key]!).toFixed(2)} |`);
  }
}
say(`\n## Targets (issue 15; load average at the end ${load()})`);
say('| target | figure | |');
say('|---|---|---|');
for (const { target: name, figure, met } of targets) say(`| ${name} | ${figure} | ${met ? 'met' : '**missed**'} |`);
writeFileSync(`${ROOT}test-artifacts/bench.md`, `${lines.join('\n')}\n`);
