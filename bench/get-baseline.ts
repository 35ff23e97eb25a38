/**
 * The baseline for single-record GETs, run as its own process by bench/index.ts: a primary-key
 * query, prepared once, straight through the driver from 10 concurrent connections (PGlite has
 * one: 10 concurrent callers) for a few seconds. Prints one JSON line: { rps, p50, p99 } (ms).
 * The query selects the record's columns (`selectByKey`), or with `json` last the API's own
 * query, which has the database write the record as JSON (`selectJsonByKey`).
 *
 * argv: postgres <connection string> <key> [json] | pglite <data directory> <key> [json]
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { statements } from '../src/derive/sql.js';
import { entityNamed, group } from '../src/entities/index.js';

const [kind, location, key, variant] = process.argv.slice(2) as [string, string, string, string | undefined];
const SECONDS = Number(process.env.BENCH_GET_SECONDS ?? 5);
const CONNECTIONS = 10;
const sql = statements(group, entityNamed);
const text = variant === 'json' ? sql.selectJsonByKey : sql.selectByKey;

type Run = () => Promise<void>;
let runners: Run[];
let close: () => Promise<void>;
if (kind === 'postgres') {
  const clients = await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      const client = new pg.Client({ connectionString: location });
      await client.connect();
      return client;
    }),
  );
  runners = clients.map((client) => async () => {
    const { rows } = await client.query({ name: 'group_by_key', text, values: [key] });
    if (rows.length !== 1) throw new Error('record not found');
  });
  close = async () => void (await Promise.all(clients.map((client) => client.end())));
} else {
  const db = await PGlite.create(location);
  runners = Array.from({ length: CONNECTIONS }, () => async () => {
    const { rows } = await db.query(text, [key]);
    if (rows.length !== 1) throw new Error('record not found');
  });
  close = () => db.close();
}

// Warm-up (plans, caches), then the measured run.
for (const run of runners) await run();
const latencies: number[] = [];
const end = performance.now() + SECONDS * 1000;
await Promise.all(
  runners.map(async (run) => {
    while (performance.now() < end) {
      const started = performance.now();
      await run();
      latencies.push(performance.now() - started);
    }
  }),
);
await close();
latencies.sort((a, b) => a - b);
const at = (share: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * share))]! * 100) / 100;
console.log(JSON.stringify({ rps: Math.round(latencies.length / SECONDS), p50: at(0.5), p99: at(0.99) }));
