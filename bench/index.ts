/**
 * `npm run bench`: the server against its store's own limit, on PostgreSQL and on PGlite.
 * A script, not a test: it prints Markdown tables (paste them into BENCHMARKS.md) and asserts nothing.
 * Each figure is the median of BENCH_RUNS runs (default 3). The server runs as its own process
 * (`vbapi serve`), loaded over loopback; the direct baselines run in this process through the same
 * driver on the same database, after the server has stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { statements } from '../src/derive/sql.js';
import { recordValidator, rowsJson, type Row } from '../src/derive/validate.js';
import { benefit as benefitEntity, entityNamed, group as groupEntity, type Entity } from '../src/entities/index.js';
import { Store } from '../src/store/store.js';
import { backends, type StoreSetup } from '../test/support/backends.js';
import { demoHeaders, startServer as startServerProcess, type DemoCredentials } from '../test/support/server-process.js';
import { benefit, group } from '../test/support/records.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZES = [1_000, 10_000];
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const rate = (records: number, ms: number) => Math.round((records / ms) * 1000);
const fmt = (value: number) => value.toLocaleString('en-US');

type Kind = 'groups' | 'benefits';
const ENTITY: Record<Kind, Entity> = { groups: groupEntity, benefits: benefitEntity };
/** Realistic records, some optional fields set. Keys fit benefit_Code's 10 characters: prefix ≤ 6. */
function records(kind: Kind, count: number, prefix: string): Record<string, unknown>[] {
  if (prefix.length > 6) throw new Error(`key prefix ${prefix} too long`);
  const key = (index: number) => `${prefix}${index.toString(36).padStart(4, '0')}`;
  return Array.from({ length: count }, (_, index) =>
    kind === 'groups'
      ? group(key(index), { name: `Group ${index}`, city: 'Springfield', state: 'IL', adult_Age: 26, caseRate: 1.5, disenroll_Date: '2025-12-31', phone: '555-0100', zip_Code: '62701' })
      : benefit(key(index), { benefit_Category: 'BENCH', benefit_Description: `Benefit ${index}`, hipaA_Code: 'H1' }),
  );
}

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

async function put(server: Server, path: string, body: string, allowFailures = false): Promise<{ ms: number; statuses: number[] }> {
  const started = performance.now();
  const response = await fetch(`${server.base}${path}`, { method: 'PUT', headers: server.headers, body });
  const json = (await response.json()) as { data: { status: number }[] };
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
    child.once('close', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Peak RSS (kB) of a process since the last reset; writing 5 to clear_refs resets it (Linux). */
const peakRss = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
const resetPeak = (pid: number) => writeFileSync(`/proc/${pid}/clear_refs`, '5');

/** autocannon from a second process: requests/s and latency percentiles. */
function autocannon(url: string, headers: Record<string, string>): Promise<{ rps: number; p50: number; p99: number }> {
  const args = ['-c', '10', '-d', '5', '-j', ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}=${value}`]), url];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${ROOT}node_modules/autocannon/autocannon.js`, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('close', () => {
      try {
        const result = JSON.parse(out) as { requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number };
        if (result.non2xx) reject(new Error(`${url}: ${result.non2xx} non-2xx answers`));
        resolve({ rps: Math.round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99 });
      } catch (error) {
        reject(error);
      }
    });
  });
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
    for (let run = 0; run < RUNS; run++) {
      const rows = records(kind, size, `${prefix}${run}`).map((record) => (validate(record) as { row: Row }).row);
      for (let pass = 0; pass < 2; pass++) { // new rows, then the same rows again (existing)
        let started = performance.now();
        await db.transaction((tx) => tx.query(sql.upsert, [rowsJson(entity, rows), 'bench']));
        json.push(performance.now() - started);
        started = performance.now();
        await db.transaction(async (tx) => {
          await tx.query(sql.staging.create);
          await tx.copyRows(entity, rows);
          await tx.query(sql.upsertFromStaging, ['bench']);
        });
        copy.push(performance.now() - started);
      }
    }
  } finally {
    await store.close();
  }
  return { json, copy };
}

const lines: string[] = [];
const say = (line = '') => {
  lines.push(line);
  console.log(line);
};

say(`# Benchmarks — ${new Date().toISOString().slice(0, 10)}`);
say();
say(`Machine: ${cpus().length} × ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; ` +
  `PGlite ${JSON.parse(readFileSync(`${ROOT}node_modules/@electric-sql/pglite/package.json`, 'utf8')).version}; median of ${RUNS} runs.`);

const throughput: Record<string, Record<string, number>> = {};
for (const backend of backends) {
  if (backend.skip) {
    say(`\n${backend.name}: skipped (${backend.skip})`);
    continue;
  }
  const setup = await backend.prepare();
  if (backend.name === 'postgres') {
    const [{ version }] = (await (await import('../test/support/backends.js')).adminQuery<{ version: string }>('SHOW server_version')) as [{ version: string }];
    say(`PostgreSQL ${version ?? ''}`.trim());
  }
  const server = await startServer(setup);
  await put(server, '/benefit-categories-batch', JSON.stringify([{ benefit_Category: 'BENCH' }]));
  const api: Record<string, number> = {};

  // 1. Batch throughput through the HTTP API.
  for (const kind of ['groups', 'benefits'] as Kind[]) {
    for (const size of SIZES) {
      const fresh: number[] = [];
      const existing: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const body = JSON.stringify(records(kind, size, `A${size / 1000}${run}`));
        fresh.push((await put(server, `/${kind}-batch`, body)).ms);
        existing.push((await put(server, `/${kind}-batch`, body)).ms);
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
    const body = records('benefits', 1000, `F${run}`);
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
  const apiLoad = await autocannon(`${server.base}/groups/GET0000`, server.headers);

  // 5. Peak RSS growth of a freshly started server while it takes one 10,000-group batch (the worst
  // case: a server that has taken large batches before has a grown heap to reuse).
  await stop(server.child);
  const fresh = await startServer(setup, server.credentials);
  const bigBody = JSON.stringify(records('groups', 10_000, 'RSS'));
  await put(fresh, '/groups-batch', JSON.stringify(records('groups', 10, 'WARM'))); // opens the tenant database
  resetPeak(fresh.child.pid!);
  const before = peakRss(fresh.child.pid!);
  await put(fresh, '/groups-batch', bigBody);
  const growthMb = (peakRss(fresh.child.pid!) - before) / 1024;
  const bodyMb = Buffer.byteLength(bigBody) / 2 ** 20;
  await stop(fresh.child);

  // 2. The store's own limit, after the server has released the store.
  const direct: Record<string, number> = {};
  for (const kind of ['groups', 'benefits'] as Kind[]) {
    for (const size of SIZES) {
      const { json, copy } = await baselines(setup, kind, size, `D${size / 1000}`);
      direct[`${kind} ${size} new json`] = rate(size, median(json.filter((_, index) => index % 2 === 0)));
      direct[`${kind} ${size} existing json`] = rate(size, median(json.filter((_, index) => index % 2 === 1)));
      direct[`${kind} ${size} new copy`] = rate(size, median(copy.filter((_, index) => index % 2 === 0)));
      direct[`${kind} ${size} existing copy`] = rate(size, median(copy.filter((_, index) => index % 2 === 1)));
    }
  }
  await setup.cleanup();
  throughput[backend.name] = api;

  say(`\n## ${backend.name === 'postgres' ? 'PostgreSQL' : 'PGlite'}`);
  say('\n### Batch upserts: records/s through the API, and the same rows straight through the driver');
  say('| batch | API | JSON statement | COPY + INSERT…SELECT | API ÷ JSON | API ÷ COPY |');
  say('|---|---:|---:|---:|---:|---:|');
  for (const kind of ['groups', 'benefits'] as Kind[]) {
    for (const size of SIZES) {
      for (const state of ['new', 'existing']) {
        const key = `${kind} ${size} ${state}`;
        const [viaApi, viaJson, viaCopy] = [api[key]!, direct[`${key} json`]!, direct[`${key} copy`]!];
        say(`| ${kind}-batch, ${fmt(size)} ${state} | ${fmt(viaApi)} | ${fmt(viaJson)} | ${fmt(viaCopy)} | ${(viaApi / viaJson).toFixed(2)} | ${(viaApi / viaCopy).toFixed(2)} |`);
      }
    }
  }
  say('\n### One record failing in SQL (unknown category) in a 1,000-benefit batch');
  say(`Clean: ${median(clean).toFixed(1)} ms; with the failing record: ${median(failing).toFixed(1)} ms (${(median(failing) / median(clean)).toFixed(2)}×); ${reported}.`);
  say('\n### Single-record GET under load (autocannon, 10 connections, 5 s, second process)');
  say('| server | requests/s | p50 ms | p99 ms |');
  say('|---|---:|---:|---:|');
  say(`| bare Fastify route, same JSON from memory | ${fmt(bareLoad.rps)} | ${bareLoad.p50} | ${bareLoad.p99} |`);
  say(`| \`GET /groups/{groupID}\` (API key, token, database) | ${fmt(apiLoad.rps)} | ${apiLoad.p50} | ${apiLoad.p99} |`);
  say(`API ÷ bare: ${(apiLoad.rps / bareLoad.rps).toFixed(2)}`);
  say('\n### Memory while a freshly started server takes one 10,000-group batch');
  say(`Body ${bodyMb.toFixed(1)} MiB; peak RSS growth ${growthMb.toFixed(1)} MiB (${(growthMb / bodyMb).toFixed(2)}× the body).`);
}

if (throughput.pglite && throughput.postgres) {
  say('\n## PGlite ÷ PostgreSQL, batch upserts through the API');
  say('| batch | PGlite records/s | PostgreSQL records/s | ratio |');
  say('|---|---:|---:|---:|');
  for (const key of Object.keys(throughput.postgres)) {
    say(`| ${key} | ${fmt(throughput.pglite[key]!)} | ${fmt(throughput.postgres[key]!)} | ${(throughput.pglite[key]! / throughput.postgres[key]!).toFixed(2)} |`);
  }
}
writeFileSync(`${ROOT}test-artifacts/bench.md`, `${lines.join('\n')}\n`);
