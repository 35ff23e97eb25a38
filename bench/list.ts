/**
 * Listing: page 50 (100 records a page) of 100,000 groups over HTTP, on PGlite and PostgreSQL.
 * `npm run bench` — prints figures, asserts nothing.
 */
import { buildApp } from '../src/http/app.js';
import { login, provision, testConfig } from '../test/support/api.js';
import { backends, openStore } from '../test/support/backends.js';
import { group } from '../test/support/records.js';

const GROUPS = Number(process.env.BENCH_LIST_GROUPS ?? 100_000);
const RUNS = Number(process.env.BENCH_LIST_RUNS ?? 21);
const QUERIES = ['page=50&pageSize=100', 'page=50&pageSize=100&sortBy=name', 'page=50&pageSize=100&sortBy=disenroll_Date:desc,name'];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

console.log(`\n# GET /groups, page 50 of ${GROUPS.toLocaleString('en-US')} groups — median of ${RUNS} requests`);
console.log('| store | query | ms |');
console.log('|---|---|---:|');
for (const backend of backends) {
  if (backend.skip) continue;
  const setup = await backend.prepare();
  const store = await openStore(setup);
  const credentials = await provision(store, 'bench', 'bench');
  const app = await buildApp({ store, config: testConfig() });
  const token = await login(app, credentials);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const headers = { 'vbasoftware-database': 'bench', 'user-agent': 'bench', 'x-api-key': credentials.apiKey, authorization: `Bearer ${token}` };
  for (let start = 0; start < GROUPS; start += 10_000) {
    const batch = Array.from({ length: Math.min(10_000, GROUPS - start) }, (_, offset) => {
      const index = start + offset;
      return group(`G${String(index).padStart(7, '0')}`, { name: `name ${(index * 7919) % 100_003}`, disenroll_Date: `20${10 + (index % 15)}-01-01` });
    });
    const response = await fetch(`${address}/groups-batch`, { method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(batch) });
    if (response.status !== 207) throw new Error(`seeding failed: ${response.status}`);
    await response.arrayBuffer();
  }
  for (const query of QUERIES) {
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      const response = await fetch(`${address}/groups?${query}`, { headers });
      const body = (await response.json()) as { data: unknown[] };
      times.push(performance.now() - started);
      if (response.status !== 200 || body.data.length !== 100) throw new Error(`${query}: ${response.status}`);
    }
    console.log(`| ${backend.name} | \`${query}\` | ${median(times).toFixed(1)} |`);
  }
  await app.close();
  await store.close();
  await setup.cleanup();
}
