import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import ExcelJS from 'exceljs';
import { backends, type StoreSetup } from './support/backends.js';
import { groupFields } from './support/contract-fields.js';
import { group, maximalGroup, wideText } from './support/records.js';
import { demoHeaders, startServer, type ServerProcess } from './support/server-process.js';

/** `vbapi import | export | seed` as a user runs them: a child process talking to a running server (embedded store). */
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const AUDIT = /^(entry|update)_(Date|User)$/;
const CLIENT_FIELDS = groupFields.filter((field) => !AUDIT.test(field.name)).map((field) => field.name);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const pglite = backends.find((backend) => backend.name === 'pglite')!;

describe('vbapi import / export / seed against a running server', () => {
  let setup: StoreSetup;
  let server: ServerProcess;
  let dir: string;
  let env: Record<string, string>;
  let headers: Record<string, string>;

  before(async () => {
    setup = await pglite.prepare();
    server = await startServer(setup);
    const demo = await demoHeaders(server.base, server.stdout());
    headers = demo.headers;
    env = {
      VBAPI_URL: server.base,
      VBAPI_API_KEY: demo.credentials.key,
      VBAPI_CLIENT_ID: 'demo',
      VBAPI_CLIENT_CODE: 'demo',
      VBAPI_DATABASE: 'demo',
      VBAPI_USERNAME: 'demo',
      VBAPI_PASSWORD: demo.credentials.password,
    };
    dir = await mkdtemp(join(tmpdir(), 'vbapi-import-'));
  });
  after(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    await setup?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const start = (args: string[]): ChildProcess =>
    spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const vbapi = (args: string[]): Promise<Run> => {
    const child = start(args);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
  };
  const report = (path: string) => parse(readFileSync(path), { columns: true }) as { row: string; key: string; status: string; message: string }[];
  const file = (name: string) => join(dir, name);

  test('CSV: headers matched case-insensitively, text converted per field, bad rows reported with their row number', async () => {
    const base = group('CSV-X');
    const columns = Object.keys(base).map((name, index) => (index % 2 ? name.toUpperCase() : name));
    const rows = [
      ['CSV-1', { adult_Age: '21', admin_COBRA: 'yes', paperless: 'Y', renewal_Date: '03/15/2025', caseRate: '1.5', name: 'Acme, "quoted"\nsecond line' }],
      ['CSV-2', { adult_Age: 'twelve' }],
      ['CSV-3', { admin_COBRA: 'maybe', renewal_Date: '2025-13-01' }],
      ['CSV-4', { name: 'x'.repeat(51) }],
      ['CSV-5', {}],
    ] as const;
    const header = [...columns, 'adult_Age', 'renewal_Date', 'caseRate', 'name'];
    const lines = rows.map(([id, extra]) => {
      const record: Record<string, unknown> = { ...group(id), ...extra };
      return header.map((name) => {
        const value = record[Object.keys(record).find((key) => key.toLowerCase() === name.toLowerCase())!];
        return value === undefined ? null : String(value);
      });
    });
    writeFileSync(file('groups.csv'), stringify([header, ...lines]));
    const run = await vbapi(['import', 'groups', file('groups.csv'), '--report', file('csv-report.csv')]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /groups from .*groups\.csv: 5 rows .*created 2, updated 0, invalid 3, unresolved 0, failed 0/);
    assert.deepEqual(report(file('csv-report.csv')), [
      { row: '2', key: 'CSV-1', status: '201', message: 'Created' },
      { row: '3', key: '', status: '400', message: 'row 3, adult_Age: "twelve" is not an integer' },
      {
        row: '4',
        key: '',
        status: '400',
        message: 'row 4, admin_COBRA: "maybe" is not a boolean (true/false, yes/no, 1/0, Y/N); renewal_Date: "2025-13-01" is not a date (ISO 8601 or MM/DD/YYYY)',
      },
      { row: '5', key: 'CSV-4', status: '400', message: 'name: must be at most 50 characters' },
      { row: '6', key: 'CSV-5', status: '201', message: 'Created' },
    ]);
    const stored = (await api('GET', '/groups/CSV-1')).json.data;
    assert.equal(stored.adult_Age, 21);
    assert.equal(stored.admin_COBRA, true);
    assert.equal(stored.paperless, true);
    assert.equal(stored.renewal_Date, '2025-03-15T00:00:00.000Z');
    assert.equal(stored.caseRate, 1.5);
    assert.equal(stored.name, 'Acme, "quoted"\nsecond line');
  });

  test('an unknown column is refused before anything is sent (exit 2); --map renames columns', async () => {
    writeFileSync(file('unknown.csv'), stringify([['group_ID', 'grp_name'], ['MAP-1', 'x']]));
    const refused = await vbapi(['import', 'groups', file('unknown.csv')]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /unknown column "grp_name" for groups \(use --map to rename\)/);
    writeFileSync(file('mapped.csv'), stringify([['Group Code', ...Object.keys(group('x')).slice(1), 'Group Name'], ['MAP-1', ...Object.values(group('x')).slice(1).map(String), 'Mapped']]));
    writeFileSync(file('mapping.json'), JSON.stringify({ 'Group Code': 'group_ID', 'group name': 'name' }));
    const mapped = await vbapi(['import', 'groups', file('mapped.csv'), '--map', file('mapping.json')]);
    assert.equal(mapped.code, 0, mapped.stderr);
    assert.equal((await api('GET', '/groups/MAP-1')).json.data.name, 'Mapped');
    assert.equal((await vbapi(['import', 'nothing', file('mapped.csv')])).code, 2);
  });

  test('NDJSON: one record a line; a line that is not JSON or not an object is reported, the rest applied', async () => {
    const lines = [JSON.stringify(group('ND-1')), '{not json', '', '[1]', JSON.stringify(group('ND-2', { adult_Age: 'x' })), JSON.stringify({ ...group('ND-3'), GROUP_ID: 'ND-3' })];
    writeFileSync(file('groups.ndjson'), lines.join('\n'));
    const run = await vbapi(['import', 'groups', file('groups.ndjson'), '--report', file('nd-report.csv')]);
    assert.equal(run.code, 1);
    assert.deepEqual(
      report(file('nd-report.csv')).map((row) => [row.row, row.status, row.message]),
      [['1', '201', 'Created'], ['2', '400', 'row 2: not valid JSON'], ['4', '400', 'row 4: not a JSON object'], ['5', '400', 'adult_Age: must be an integer or null'], ['6', '201', 'Created']],
    );
  });

  test('XLSX: typed cells (numbers, booleans, dates, text such as "no") from the first sheet or --sheet', async () => {
    const workbook = new ExcelJS.Workbook();
    const other = workbook.addWorksheet('notes');
    other.addRow(['not', 'records']);
    const sheet = workbook.addWorksheet('groups');
    const base = group('XL-X');
    const names = [...Object.keys(base), 'adult_Age', 'renewal_Date', 'caseRate', 'zip_Code'];
    sheet.addRow(names);
    sheet.addRow([...Object.values(group('XL-1', { admin_COBRA: true, paperless: 'no' })), 30, new Date('2025-02-03T00:00:00Z'), 2.25, 12345]);
    sheet.addRow([...Object.values(group('XL-2')), 'thirty', null, null, null]);
    await workbook.xlsx.writeFile(file('groups.xlsx'));
    const run = await vbapi(['import', 'groups', file('groups.xlsx'), '--sheet', 'groups', '--report', file('xl-report.csv')]);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(report(file('xl-report.csv')).map((row) => [row.row, row.status, row.message]), [
      ['2', '201', 'Created'],
      ['3', '400', 'row 3, adult_Age: "thirty" is not an integer'],
    ]);
    const stored = (await api('GET', '/groups/XL-1')).json.data;
    assert.deepEqual([stored.adult_Age, stored.renewal_Date, stored.caseRate, stored.zip_Code, stored.admin_COBRA, stored.paperless], [30, '2025-02-03T00:00:00.000Z', 2.25, '12345', true, false]);
    const firstSheet = await vbapi(['import', 'groups', file('groups.xlsx')]);
    assert.equal(firstSheet.code, 2, 'the first sheet has no group columns');
    assert.match(firstSheet.stderr, /unknown columns "not", "records"/);
  });

  test('--dry-run stores nothing and says what would happen; --all-or-none applies nothing when one row fails', async () => {
    writeFileSync(file('dry.ndjson'), [group('DRY-1'), group('CSV-1'), group('DRY-2', { adult_Age: 'x' })].map((record) => JSON.stringify(record)).join('\n'));
    const dry = await vbapi(['import', 'groups', file('dry.ndjson'), '--dry-run']);
    assert.equal(dry.code, 1);
    assert.match(dry.stdout, /dry run, nothing stored: would be created 1, updated 1, invalid 1/);
    assert.equal((await api('GET', '/groups/DRY-1')).status, 404);
    const allOrNone = await vbapi(['import', 'groups', file('dry.ndjson'), '--all-or-none', '--report', file('aon-report.csv')]);
    assert.equal(allOrNone.code, 1);
    assert.deepEqual(report(file('aon-report.csv')).map((row) => row.status), ['424', '424', '400']);
    assert.equal((await api('GET', '/groups/DRY-1')).status, 404);
    const tooBig = await vbapi(['import', 'groups', file('dry.ndjson'), '--all-or-none', '--batch-size', '2']);
    assert.equal(tooBig.code, 2);
    assert.match(tooBig.stderr, /--all-or-none sends the whole file as one request, and it has more than 2 records/);
  });

  test('killed mid-import, --resume applies every row exactly once', async () => {
    const ROWS = 3000;
    const records = Array.from({ length: ROWS }, (_, index) => group(`RES-${String(index).padStart(5, '0')}`, { name: `resume ${index}` }));
    writeFileSync(file('resume.ndjson'), records.map((record) => JSON.stringify(record)).join('\n'));
    const checkpoint = `${file('resume.ndjson')}.checkpoint.json`;
    const args = ['import', 'groups', file('resume.ndjson'), '--batch-size', '100', '--report', file('resume-report.csv')];
    const first = start(args);
    const exited = new Promise((resolve) => first.on('close', resolve));
    const deadline = Date.now() + 60_000;
    while (!(existsSync(checkpoint) && JSON.parse(readFileSync(checkpoint, 'utf8') || '{}').batchesDone >= 3)) {
      assert.ok(Date.now() < deadline, 'the importer made no progress');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    first.kill('SIGKILL');
    await exited;
    const done = JSON.parse(readFileSync(checkpoint, 'utf8')).batchesDone as number;
    assert.ok(done < ROWS / 100, 'killed before the end');

    assert.equal((await vbapi(args)).code, 2, 'without --resume an interrupted import is not started over');
    const resumed = await vbapi([...args, '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /3000 rows .*created 3000, updated 0/);
    assert.equal(existsSync(checkpoint), false, 'the checkpoint is removed once done');
    const lines = report(file('resume-report.csv'));
    assert.equal(lines.length, ROWS, 'every row reported once');
    assert.deepEqual(new Set(lines.map((line) => line.status)), new Set(['201']));
    assert.equal(new Set(lines.map((line) => line.key)).size, ROWS);
    let stored = 0;
    for (let page = 1; ; page++) {
      const { json } = await api('GET', `/groups?pageSize=1000&page=${page}`);
      for (const record of json.data as { group_ID: string; entry_Date: string; update_Date: string }[]) {
        if (!record.group_ID.startsWith('RES-')) continue;
        stored++;
        assert.equal(record.update_Date, record.entry_Date, `${record.group_ID} was written more than once`);
      }
      if (json.data.length < 1000) break;
    }
    assert.equal(stored, ROWS);
  });

  test('export → import is lossless for every one of the 98 group fields, in CSV, NDJSON and XLSX', async () => {
    const originals = [
      maximalGroup('RT-MAX-1', 1),
      maximalGroup('RT-MAX-2', 2),
      group('RT-SPARSE', { name: '', notes: 'line one\nline two, "quoted"', city: wideText(25, 3), caseRate: 0.1, adult_Age: 0 }),
    ];
    assert.equal((await api('PUT', '/groups-batch', originals)).status, 207);
    const before = new Map<string, Record<string, unknown>>();
    for (const { group_ID } of originals) before.set(group_ID as string, (await api('GET', `/groups/${encodeURIComponent(group_ID as string)}`)).json.data);
    assert.equal(Object.keys(before.get('RT-MAX-1')!).length, 98);

    for (const format of ['csv', 'ndjson', 'xlsx']) {
      const out = file(`export.${format}`);
      const exported = await vbapi(['export', 'groups', '--format', format, '--out', out]);
      assert.equal(exported.code, 0, exported.stderr);
      for (const key of before.keys()) assert.equal((await api('DELETE', `/groups/${encodeURIComponent(key)}`)).status, 204);
      const imported = await vbapi(['import', 'groups', out, '--report', file(`rt-${format}.csv`)]);
      assert.equal(imported.code, 0, `${format}: ${imported.stdout} ${imported.stderr}`);
      for (const [key, original] of before) {
        const now = (await api('GET', `/groups/${encodeURIComponent(key)}`)).json.data;
        for (const name of CLIENT_FIELDS) assert.deepEqual(now[name], original[name], `${format}: ${key}.${name}`);
      }
    }
  });

  test('seed loads demo data through the import path', async () => {
    const run = await vbapi(['seed', '--categories', '12', '--benefits', '40', '--groups', '50']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /benefit-categories: 12 rows/);
    assert.match(run.stdout, /benefits: 40 rows/);
    assert.match(run.stdout, /groups: 50 rows/);
    assert.equal((await api('GET', '/benefits/B0001')).status, 200);
    assert.equal((await api('GET', '/groups/G00001')).json.data.country_ID, 'USA');
  });

  test('missing credentials are a usage error naming what is missing', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'export', 'groups'], { env: { ...process.env, VBAPI_URL: server.base }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.equal(code, 2);
    assert.match(stderr, /missing --api-key \(or VBAPI_API_KEY\), --client-id \(or VBAPI_CLIENT_ID\), .*--password \(or VBAPI_PASSWORD\)/);
  });
});
