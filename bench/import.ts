/**
 * `npm run bench:import`: `vbapi import groups <100,000-row CSV>` against a running server (its own
 * process, embedded store unless BENCH_STORE=postgres), as a user runs it. Prints rows/s and the
 * importer's peak RSS (paste into BENCHMARKS.md); asserts nothing. BENCH_IMPORT_ROWS changes the size.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { stringify } from 'csv-stringify';
import { backends, preparePostgres } from '../test/support/backends.js';
import { group } from '../test/support/records.js';
import { demoHeaders, startServer } from '../test/support/server-process.js';

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 100_000);
const BATCH = process.env.BENCH_IMPORT_BATCH ?? '1000';
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const PEAK_RSS = fileURLToPath(new URL('./peak-rss.ts', import.meta.url));
const onPostgres = process.env.BENCH_STORE === 'postgres';

const dir = await mkdtemp(join(tmpdir(), 'vbapi-bench-import-'));
const csv = join(dir, 'groups.csv');
const fields = Object.keys(group('x', { name: '', city: '', state: '', zip_Code: '', adult_Age: 0, caseRate: 0, renewal_Date: '' }));
const writer = stringify({ header: true, columns: fields, cast: { boolean: (value) => (value ? 'true' : 'false') } });
writer.pipe(createWriteStream(csv));
for (let index = 0; index < ROWS; index++) {
  const record = group(`BI${index.toString(36).padStart(6, '0')}`, {
    name: `Group ${index}`, city: 'Springfield', state: 'IL', zip_Code: '62701', adult_Age: 26, caseRate: 1.5, renewal_Date: '01/01/2026',
  });
  if (!writer.write(fields.map((name) => record[name]))) await new Promise((resolve) => writer.once('drain', resolve));
}
writer.end();
await finished(writer);
const bytes = (await stat(csv)).size;

const setup = onPostgres ? await preparePostgres() : await backends[0]!.prepare();
const server = await startServer(setup);
try {
  const { credentials } = await demoHeaders(server.base, server.stdout());
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', PEAK_RSS, MAIN, 'import', 'groups', csv, '--batch-size', BATCH], {
    env: {
      ...process.env, VBAPI_URL: server.base, VBAPI_API_KEY: credentials.key, VBAPI_CLIENT_ID: 'demo', VBAPI_CLIENT_CODE: 'demo',
      VBAPI_DATABASE: 'demo', VBAPI_USERNAME: 'demo', VBAPI_PASSWORD: credentials.password,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (out += chunk));
  const code = await new Promise((resolve) => child.on('close', resolve));
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`import failed (${String(code)}): ${out}`);
  const peakKib = Number(/peak-rss-kib (\d+)/.exec(out)?.[1]);
  console.log(out.trim());
  console.log(`\n| store | rows | CSV size | batch | wall time | rows/s | importer peak RSS | cores |`);
  console.log(`|---|---|---|---|---|---|---|---|`);
  console.log(
    `| ${onPostgres ? 'PostgreSQL' : 'PGlite'} | ${ROWS.toLocaleString('en-US')} | ${(bytes / 2 ** 20).toFixed(1)} MiB | ${BATCH} | ` +
      `${seconds.toFixed(1)} s | ${Math.round(ROWS / seconds).toLocaleString('en-US')} | ${Math.round(peakKib / 1024)} MiB | ${cpus().length} |`,
  );
} finally {
  server.child.kill('SIGTERM');
  await server.exited;
  await setup.cleanup();
  await rm(dir, { recursive: true, force: true });
}
