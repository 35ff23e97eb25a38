/**
 * `npm run bench:tenants`: many tenants on one server process. A script, not a test: it prints
 * Markdown tables (paste them into BENCHMARKS.md) and asserts nothing.
 *  - PostgreSQL: TENANTS_PG tenants (default 24), 6 concurrent batch writers each, under the default
 *    connection budget (20): peak connections sampled from pg_stat_activity, batch latency, errors.
 *  - Embedded: TENANTS_EMBEDDED tenants (default 16) created, then used in turn, twice, under the
 *    default cap of 8 open: `database create` time, time to reopen a closed tenant, peak RSS.
 */
import pino from 'pino';
import { Store } from '../src/store/store.js';
import { signedIn, type Api } from '../test/support/api.js';
import { adminQuery, backends } from '../test/support/backends.js';
import { group } from '../test/support/records.js';

const TENANTS_PG = Number(process.env.TENANTS_PG ?? 24);
const TENANTS_EMBEDDED = Number(process.env.TENANTS_EMBEDDED ?? 16);
const WRITERS = 6;
const BATCHES_PER_WRITER = 3;
const RECORDS = 500;
const quiet = pino({ level: 'silent' });
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;
const ms = (value: number) => `${Math.round(value).toLocaleString('en-US')} ms`;

async function postgres(): Promise<void> {
  const backend = backends[1]!;
  if (backend.skip) return console.log(`PostgreSQL skipped: ${backend.skip}`);
  const setup = await backend.prepare();
  const acquireTimeoutMs = Number(process.env.VBAPI_PG_ACQUIRE_TIMEOUT_MS ?? 10_000);
  const store = await Store.open({ ...setup.config, pgMaxConnections: 20, pgAcquireTimeoutMs: acquireTimeoutMs }, quiet);
  const registry = decodeURIComponent(new URL(setup.config.databaseUrl!).pathname.slice(1));
  try {
    const apis: Api[] = [];
    for (let tenant = 0; tenant < TENANTS_PG; tenant++) apis.push(await signedIn(store, `c${tenant}`, `t${tenant}`));
    let sampling = true;
    let peak = 0;
    const sampler = (async () => {
      while (sampling) {
        const [row] = await adminQuery<{ count: number }>(
          'SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = $1 OR datname LIKE $2',
          [registry, `${registry}\\_\\_t%`],
        );
        peak = Math.max(peak, row!.count);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const latencies: number[] = [];
    let errors = 0;
    const statuses = new Map<number, number>();
    const started = performance.now();
    await Promise.all(
      apis.flatMap((api, tenant) =>
        Array.from({ length: WRITERS }, async (_, writer) => {
          for (let batch = 0; batch < BATCHES_PER_WRITER; batch++) {
            const records = Array.from({ length: RECORDS }, (_, index) => group(`T${tenant}W${writer}B${batch}N${index}`));
            const t0 = performance.now();
            const answer = await api.put('/groups-batch', records);
            latencies.push(performance.now() - t0);
            statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
            if (answer.status !== 207 || (answer.json.data as { status: number }[]).some((item) => item.status >= 300)) errors++;
          }
        }),
      ),
    );
    const elapsed = performance.now() - started;
    sampling = false;
    await sampler;
    for (const api of apis) await api.app.close();
    console.log(`\n### PostgreSQL: ${TENANTS_PG} tenants × ${WRITERS} concurrent writers × ${BATCHES_PER_WRITER} batches of ${RECORDS} groups (budget 20, acquire timeout ${acquireTimeoutMs} ms)\n`);
    console.log('| batches | errors | statuses | peak connections (pg_stat_activity) | batch p50 | batch p99 | wall time |');
    console.log('|---:|---:|---|---:|---:|---:|---:|');
    const tally = [...statuses].map(([status, count]) => `${status}: ${count}`).join(', ');
    console.log(`| ${latencies.length} | ${errors} | ${tally} | ${peak} | ${ms(percentile(latencies, 0.5))} | ${ms(percentile(latencies, 0.99))} | ${ms(elapsed)} |`);
  } finally {
    await store.close();
    await setup.cleanup();
  }
}

async function embedded(): Promise<void> {
  const setup = await backends[0]!.prepare();
  const store = await Store.open({ ...setup.config, maxOpenTenants: 8 }, quiet);
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  try {
    const creates: number[] = [];
    for (let tenant = 0; tenant < TENANTS_EMBEDDED; tenant++) {
      const t0 = performance.now();
      await store.createDatabase(`t${tenant}`);
      creates.push(performance.now() - t0);
    }
    const apis: Api[] = [];
    for (let tenant = 0; tenant < TENANTS_EMBEDDED; tenant++) apis.push(await signedIn(store, `c${tenant}`, `t${tenant}`));
    const reopens: number[] = [];
    let errors = 0;
    for (let round = 0; round < 2; round++) {
      for (let tenant = 0; tenant < TENANTS_EMBEDDED; tenant++) {
        const closed = round === 1 && TENANTS_EMBEDDED > 8; // used 8+ tenants ago: closed to make room
        const t0 = performance.now();
        const count = await apis[tenant]!.get('/groups?pageSize=1');
        if (closed) reopens.push(performance.now() - t0);
        const answer = await apis[tenant]!.put('/groups-batch', Array.from({ length: 200 }, (_, index) => group(`R${round}N${index}`)));
        if (count.status !== 200 || answer.status !== 207) errors++;
      }
    }
    for (const api of apis) await api.app.close();
    clearInterval(sampler);
    console.log(`\n### Embedded: ${TENANTS_EMBEDDED} tenants used in turn, twice (at most 8 open)\n`);
    console.log('| database create p50 | create max | first create (builds the pristine copy) | reopen a closed tenant (GET) p50 | reopen max | peak RSS | errors |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|');
    console.log(
      `| ${ms(percentile(creates.slice(1), 0.5))} | ${ms(Math.max(...creates.slice(1)))} | ${ms(creates[0]!)} | ${ms(percentile(reopens, 0.5))} | ${ms(Math.max(...reopens))} | ${Math.round(peakRss / 2 ** 20)} MB | ${errors} |`,
    );
  } finally {
    clearInterval(sampler);
    await store.close();
    await setup.cleanup();
  }
}

if (process.env.BENCH_ONLY !== 'embedded') await postgres();
if (process.env.BENCH_ONLY !== 'postgres') await embedded();
