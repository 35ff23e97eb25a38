/**
 * `npm run bench:pipeline`: the batch engine alone (no HTTP), at several chunk sizes, against the
 * one JSON statement, on the same database in one process, runs interleaved so that a busy
 * machine slows every variant alike. Prints medians (ms) and records/s; asserts nothing.
 * BENCH_RUNS (default 7), BENCH_ONLY=postgres|pglite, BENCH_CHUNKS (default "1000000,2000,1000,500,250"),
 * BENCH_ENCODINGS (default "auto"; e.g. "auto,json,copy"), BENCH_KINDS (default "groups,full groups,benefits").
 */
import { loadavg } from 'node:os';
import pino from 'pino';
import { statements } from '../src/derive/sql.js';
import { recordValidator, rowsJson, type Row } from '../src/derive/validate.js';
import { benefit as benefitEntity, entityNamed, group as groupEntity, type Entity } from '../src/entities/index.js';
import { batchUpserter } from '../src/resources/batch.js';
import { Store } from '../src/store/store.js';
import { backends } from '../test/support/backends.js';
import { benefit, group } from '../test/support/records.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const CHUNKS = (process.env.BENCH_CHUNKS ?? '1000000,2000,1000,500,250').split(',').map(Number);
const SIZE = Number(process.env.BENCH_SIZE ?? 10_000);
/** BENCH_ENCODINGS=auto,json,copy compares the engine's two ways in (default: auto only). */
const ENCODINGS = (process.env.BENCH_ENCODINGS ?? 'auto').split(',') as ('auto' | 'json' | 'copy')[];
const KINDS = process.env.BENCH_KINDS?.split(',');
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const log = pino({ level: 'silent' });

/** A short value of a field's type within its length: every client field set ("full groups"). */
function sample(type: string, maxLength: number | undefined, index: number): unknown {
  if (type === 'string') return `v${index}`.padEnd(12, 'x').slice(0, Math.min(maxLength ?? 12, 12));
  if (type === 'boolean') return index % 2 === 0;
  if (type === 'int32') return index;
  if (type === 'double') return index + 0.5;
  return '2025-06-30';
}

const kinds: { name: string; entity: Entity; make: (key: string, index: number) => Record<string, unknown> }[] = [
  {
    name: 'groups',
    entity: groupEntity,
    make: (key, index) => group(key, { name: `Group ${index}`, city: 'Springfield', state: 'IL', adult_Age: 26, caseRate: 1.5, disenroll_Date: '2025-12-31', phone: '555-0100', zip_Code: '62701' }),
  },
  {
    name: 'full groups',
    entity: groupEntity,
    make: (key, index) => Object.fromEntries([...groupEntity.clientFields.map((field) => [field.name, sample(field.type, field.maxLength, index)]), [groupEntity.key.name, key]]),
  },
  { name: 'benefits', entity: benefitEntity, make: (key, index) => benefit(key, { benefit_Category: 'BENCH', benefit_Description: `Benefit ${index}`, hipaA_Code: 'H1' }) },
];

console.log(`# Batch engine vs the JSON statement, ${SIZE.toLocaleString('en-US')} records, median of ${RUNS} (load average ${loadavg()[0]!.toFixed(1)})`);
for (const backend of backends) {
  if (backend.skip || (process.env.BENCH_ONLY && process.env.BENCH_ONLY !== backend.name)) continue;
  const setup = await backend.prepare();
  const store = await Store.open(setup.config, log);
  await store.createDatabase('pipeline');
  const db = (await store.tenant('pipeline'))!;
  await batchUpserter(entityNamed('benefitCategory'), {})(db, [{ benefit_Category: 'BENCH' }], { user: 'bench', activityID: 'bench', log });
  console.log(`\n## ${backend.name}\n| records | variant | ms (new keys) | ms (existing) | records/s (new) |\n|---|---|---:|---:|---:|`);
  for (const kind of kinds.filter((candidate) => !KINDS || KINDS.includes(candidate.name))) {
    const times = new Map<string, { fresh: number[]; existing: number[] }>();
    const time = (name: string) => times.get(name) ?? times.set(name, { fresh: [], existing: [] }).get(name)!;
    const validate = recordValidator(kind.entity);
    const sql = statements(kind.entity, entityNamed);
    // Engines are built once, as the server builds one per record type: building one compiles its validator.
    const engines = CHUNKS.flatMap((size) => ENCODINGS.map((encoding) => [size, encoding, batchUpserter(kind.entity, { batchChunkRows: size, encoding })] as const));
    for (let run = 0; run < RUNS; run++) {
      const variants = [
        ['JSON statement', async (records: Record<string, unknown>[]) => {
          const rows = records.map((record) => (validate(record) as { row: Row }).row);
          await db.transaction((tx) => tx.query(sql.upsert, [rowsJson(kind.entity, rows), 'bench']));
        }],
        ...engines.map(([size, encoding, upsert]) => [`engine, chunks of ${size}${encoding === 'auto' ? '' : `, ${encoding} only`}`, async (records: Record<string, unknown>[]) => {
          await upsert(db, records, { user: 'bench', activityID: 'bench', log });
        }] as const),
      ] as const;
      for (const [index, [name, write]] of variants.entries()) {
        const prefix = `${run}v${index}`;
        const make = () => Array.from({ length: SIZE }, (_, at) => kind.make(`${prefix}${at.toString(36).padStart(4, '0')}`, at));
        let records = make();
        let started = performance.now();
        await write(records);
        time(name).fresh.push(performance.now() - started);
        records = make();
        started = performance.now();
        await write(records);
        time(name).existing.push(performance.now() - started);
      }
    }
    for (const [name, { fresh, existing }] of times) {
      console.log(`| ${kind.name} | ${name} | ${median(fresh).toFixed(0)} | ${median(existing).toFixed(0)} | ${Math.round(SIZE / (median(fresh) / 1000)).toLocaleString('en-US')} |`);
    }
  }
  await store.close();
  await setup.cleanup();
}
