/**
 * Batch-write throughput through the HTTP API, on PGlite and PostgreSQL.
 * `npm run bench` — a script, not a test: it prints figures, it asserts nothing.
 * PostgreSQL: VBAPI_TEST_PG_URL (default postgres://root@127.0.0.1:5432/postgres), in a database it creates and drops.
 */
import { cpus } from 'node:os';
import { buildApp } from '../src/http/app.js';
import { login, provision, testConfig } from '../test/support/api.js';
import { backends, openStore } from '../test/support/backends.js';
import { group } from '../test/support/records.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZES = [1_000, 10_000];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

console.log(`# groups-batch over HTTP — ${new Date().toISOString()} — node ${process.version} — ${cpus().length} × ${cpus()[0]?.model}`);
console.log('| store | records | new: records/s | existing: records/s |');
console.log('|---|---:|---:|---:|');
for (const backend of backends) {
  if (backend.skip) {
    console.log(`| ${backend.name} | skipped: ${backend.skip} | | |`);
    continue;
  }
  const setup = await backend.prepare();
  const store = await openStore(setup);
  const credentials = await provision(store, 'bench', 'bench');
  const app = await buildApp({ store, config: testConfig() });
  const token = await login(app, credentials);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const put = async (body: string) => {
    const started = performance.now();
    const response = await fetch(`${address}/groups-batch`, {
      method: 'PUT',
      headers: {
        'content-type': 'application/json',
        'vbasoftware-database': 'bench',
        'user-agent': 'bench',
        'x-api-key': credentials.apiKey,
        authorization: `Bearer ${token}`,
      },
      body,
    });
    await response.arrayBuffer();
    if (response.status !== 207) throw new Error(`status ${response.status}`);
    return performance.now() - started;
  };
  for (const size of SIZES) {
    const fresh: number[] = [];
    const existing: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const body = JSON.stringify(Array.from({ length: size }, (_, index) => group(`B${size}-${run}-${index}`, { name: `group ${index}`, adult_Age: index })));
      fresh.push(await put(body));
      existing.push(await put(body));
    }
    const rate = (ms: number) => Math.round((size / ms) * 1000).toLocaleString('en-US');
    console.log(`| ${backend.name} | ${size.toLocaleString('en-US')} | ${rate(median(fresh))} | ${rate(median(existing))} |`);
  }
  await app.close();
  await store.close();
  await setup.cleanup();
}
