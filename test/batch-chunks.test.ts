import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compareKeys } from '../src/resources/batch-order.js';
import type { Store } from '../src/store/store.js';
import { signedIn, type Api } from './support/api.js';
import { backends, openStore, type StoreSetup } from './support/backends.js';
import { benefit, category, group, maximalBenefit, maximalGroup, type Json } from './support/records.js';

/**
 * The pipelined batch path: a batch cut into chunks (here a few records each) answers and stores
 * exactly what the same batch does in one chunk, and a fault in any chunk rolls back all of them.
 * Each comparison runs the same requests against two tenant databases of one store: one served
 * with tiny chunks, one with the default.
 */
type Entry = { id: [{ key: string; value: string | null }]; status: number; body: string };
const AUDIT = /^(entry|update)_/;
const withoutAudit = (record: Record<string, unknown>) => Object.fromEntries(Object.entries(record).filter(([name]) => !AUDIT.test(name)));

test('keys are ordered by code point, as PostgreSQL orders COLLATE "C" text (UTF-8 bytes)', () => {
  const keys = ['b', 'a', 'ab', '', 'Z', '\uFFFD', '😀', '\uE000', 'é', '中', 'a\u{10000}', 'a\uFFFF'];
  const byBytes = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  assert.deepEqual([...keys].sort(compareKeys), byBytes);
});

for (const backend of backends) {
  describe(`chunked batches on ${backend.name}`, { skip: backend.skip }, () => {
    let setup: StoreSetup;
    let store: Store;
    let chunked: Api;
    let whole: Api;
    let dense: Api;
    before(async () => {
      setup = await backend.prepare();
      store = await openStore(setup);
      chunked = await signedIn(store, 'chunked', 'chunked', { batchChunkRows: 3 });
      whole = await signedIn(store, 'whole', 'whole');
      // Chunks large enough for COPY (dense rows, from 50 a chunk).
      dense = await signedIn(store, 'dense', 'dense', { batchChunkRows: 60 });
    });
    after(async () => {
      for (const api of [chunked, whole, dense]) await api?.app.close();
      await store?.close();
      await setup?.cleanup();
    });

    /** The same request to both tenants: the answers must be equal, and so must the stored records. */
    async function same(path: string, body: unknown[], keys: readonly string[], query = ''): Promise<Entry[]> {
      const [small, one] = await Promise.all([chunked.put(`/${path}-batch${query}`, body), whole.put(`/${path}-batch${query}`, body)]);
      assert.equal(small.status, 207, small.text);
      assert.deepEqual(small.json.data, one.json.data);
      for (const key of keys) {
        const [a, b] = await Promise.all([chunked.get(`/${path}/${encodeURIComponent(key)}`), whole.get(`/${path}/${encodeURIComponent(key)}`)]);
        assert.equal(a.status, b.status, key);
        if (a.status === 200) assert.deepEqual(withoutAudit(a.json.data), withoutAudit(b.json.data), key);
      }
      return small.json.data as Entry[];
    }

    test('records sending different fields: each stores what it sent and null for the rest, also when sent again with fewer', async () => {
      // A chunk's statement reads only the fields its rows hold (derive/sql.ts, upsertFields).
      const first = [
        group('FIELDS-1', { name: 'one', city: 'Springfield', caseRate: 1.5, disenroll_Date: '2025-12-31' }),
        group('FIELDS-2', { name: 'two', phone: '555-0100', state: 'IL' }),
        group('FIELDS-3', { name: 'three', city: null }),
      ];
      const answers = await same('groups', first, ['FIELDS-1', 'FIELDS-2', 'FIELDS-3']);
      assert.deepEqual(answers.map((entry) => entry.status), [201, 201, 201]);
      const stored = async (key: string) => (await whole.get(`/groups/${key}`)).json.data as Record<string, Json>;
      const one = await stored('FIELDS-1');
      assert.deepEqual([one.city, one.caseRate, one.phone, one.state], ['Springfield', 1.5, null, null]);
      assert.match(String(one.disenroll_Date), /^2025-12-31T00:00:00(\.000)?Z$/);
      const two = await stored('FIELDS-2');
      assert.deepEqual([two.city, two.caseRate, two.disenroll_Date, two.phone, two.state], [null, null, null, '555-0100', 'IL']);
      assert.equal((await stored('FIELDS-3')).city, null);
      // Sent again with fewer fields: the batch replaces a record whole, so what was not sent is null.
      await same('groups', [group('FIELDS-1', { name: 'one again' }), group('FIELDS-2', { name: 'two again', city: 'Urbana' })], ['FIELDS-1', 'FIELDS-2']);
      const again = await stored('FIELDS-1');
      assert.deepEqual([again.name, again.city, again.caseRate, again.disenroll_Date], ['one again', null, null, null]);
      const twoAgain = await stored('FIELDS-2');
      assert.deepEqual([twoAgain.city, twoAgain.phone, twoAgain.state], ['Urbana', null, null]);
    });

    test('more sets of fields than get a statement of their own: the others go by the every-column statement, same records', async () => {
      const full = maximalGroup('SETS-00') as Record<string, Json>;
      const optional = Object.keys(full).filter((name) => !(name in group('SETS-00')) && !AUDIT.test(name));
      // Each record adds one optional field of its own: every chunk of three holds a set of fields
      // no other chunk holds, well past the 16 sets a record type gives statements of their own.
      const records = optional.map((name, index) => ({ ...group(`SETS-${String(index).padStart(2, '0')}`), [name]: full[name]! }));
      assert.ok(records.length >= 3 * 20, `${records.length} optional fields`);
      const answers = await same('groups', records, records.map((record) => record.group_ID as string));
      assert.ok(answers.every((entry) => entry.status === 201), JSON.stringify(answers.find((entry) => entry.status !== 201)));
    });

    test('invalid records, duplicates across chunk boundaries, odd keys: the same answers and records as one chunk', async () => {
      await same('groups', [group('EXIST-1', { name: 'old' }), group('EXIST-2', { name: 'old' })], ['EXIST-1', 'EXIST-2']);
      const records: unknown[] = [
        group('DUP-A', { name: 'first' }),
        group('NEW-3'),
        { group_ID: 'BAD-1' }, // required fields missing
        group('EXIST-1', { name: 'updated once' }),
        null,
        group('DUP-A', { name: 'second' }),
        group('\uFFFD-key'),
        group('😀-key'),
        group('DUP-B', { name: 'kept' }),
        'not a record',
        group('NEW-1'),
        group('EXIST-1', { name: 'updated twice' }),
        group('DUP-B', { adult_Age: 'not a number' }), // the last one of DUP-B is invalid: the one before is stored
        group(' SPACE'),
        { name: 'no key at all' },
        group('NEW-2'),
        group('DUP-A', { name: 'third and last' }),
        group('EXIST-2', { city: 'changed' }),
      ];
      const keys = ['DUP-A', 'DUP-B', 'NEW-1', 'NEW-2', 'NEW-3', 'EXIST-1', 'EXIST-2', '\uFFFD-key', '😀-key'];
      const first = await same('groups', records, keys);
      assert.deepEqual(first.map((entry) => entry.status), [201, 201, 400, 200, 400, 200, 201, 201, 201, 400, 201, 200, 400, 400, 400, 201, 200, 200]);
      assert.equal((await chunked.get('/groups/DUP-A')).json.data.name, 'third and last');
      assert.equal((await chunked.get('/groups/DUP-B')).json.data.name, 'kept');
      // Again: every key now exists.
      const second = await same('groups', records, keys);
      assert.ok(second.every((entry) => entry.status === 200 || entry.status === 400));
      // Dry run and all-or-none give the same answers too.
      await same('groups', [group('DRY-1'), ...records], ['DRY-1'], '?validateOnly=true');
      await same('groups', [group('AON-1'), ...records], ['AON-1'], '?allOrNone=true');
      assert.equal((await chunked.get('/groups/AON-1')).status, 404);
    });

    test('a reference to a missing record in the last chunk is that record\'s 422, the others are applied', async () => {
      await same('benefit-categories', [category('CAT-1'), category('CAT-2')], ['CAT-1', 'CAT-2']);
      const records = [
        benefit('ZZ-LAST', { benefit_Category: 'MISSING' }),
        benefit('B-1', { benefit_Category: 'CAT-1' }),
        benefit('B-2', { benefit_Category: 'CAT-2' }),
        benefit('B-3'),
        benefit('B-1', { benefit_Category: 'MISSING' }), // the last B-1 dangles: the one before is stored
        benefit('B-4', { benefit_Category: 'CAT-1' }),
        benefit('B-5', { benefit_Category: 'CAT-2' }),
        { benefit_Code: 'B-6' },
        benefit('B-7', { benefit_Category: 'CAT-1' }),
        benefit('ZZ-LAST', { benefit_Category: 'MISSING TOO' }),
      ];
      const keys = ['B-1', 'B-2', 'B-3', 'B-4', 'B-5', 'B-7', 'ZZ-LAST'];
      const answer = await same('benefits', records, keys);
      assert.deepEqual(answer.map((entry) => entry.status), [422, 201, 201, 201, 422, 201, 201, 400, 201, 422]);
      assert.match(answer.at(-1)!.body, /MISSING TOO/);
      assert.equal((await chunked.get('/benefits/B-1')).json.data.benefit_Category, 'CAT-1');
      await same('benefits', [benefit('B-8'), ...records], ['B-8'], '?allOrNone=true');
    });

    for (const [shape, api, make, size] of [
      ['sparse', () => chunked, (key: string, name: string) => group(key, { name }), 12],
      ['dense', () => dense, (key: string, name: string) => ({ ...maximalGroup(key, 3), name }), 200],
    ] as const) {
      test(`a database fault in a middle chunk rolls back every chunk (${shape} rows)`, async () => {
        const target = api();
        assert.deepEqual((await target.put('/groups-batch', [make('F-000', 'before')])).json.data.map((entry: Entry) => entry.status), [201]);
        const db = (await store.tenant(target === dense ? 'dense' : 'chunked'))!;
        // A real fault inside the database, on a key that sorts into the middle chunk.
        const middle = `F-${String(Math.floor(size / 2)).padStart(3, '0')}`;
        await db.query(`CREATE FUNCTION fail_on_middle() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW."group_ID" = '${middle}' THEN RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$`);
        await db.query(`CREATE TRIGGER middle BEFORE INSERT OR UPDATE ON groups FOR EACH ROW EXECUTE FUNCTION fail_on_middle()`);
        try {
          const records: Json[] = Array.from({ length: size }, (_, index) => make(`F-${String(index).padStart(3, '0')}`, 'after'));
          records.push({ group_ID: 'F-INVALID' });
          const answer = await target.put('/groups-batch', records);
          assert.equal(answer.status, 207);
          const data = answer.json.data as Entry[];
          assert.ok(data.slice(0, -1).every((entry) => entry.status === 500 && entry.body.includes(answer.json.debug.activityID)));
          assert.equal(data.at(-1)!.status, 400);
          const [row] = await db.query<{ count: number }>(`SELECT count(*) AS count FROM groups WHERE "group_ID" LIKE 'F-%'`);
          assert.equal(row!.count, 1, 'nothing of the first chunks was kept');
          assert.equal((await target.get('/groups/F-000')).json.data.name, 'before', 'the first chunk\'s update was rolled back');
        } finally {
          await db.query('DROP TRIGGER middle ON groups');
          await db.query('DROP FUNCTION fail_on_middle()');
        }
        // The connection and its staging table are fine afterwards.
        const again = await target.put('/groups-batch', Array.from({ length: size }, (_, index) => make(`F-${String(index).padStart(3, '0')}`, 'again')));
        assert.deepEqual(new Set(again.json.data.map((entry: Entry) => entry.status)), new Set(size > 1 ? [200, 201] : [200]));
        assert.equal((await target.get(`/groups/${middle}`)).json.data.name, 'again');
      });
    }

    test('dense rows in COPY-sized chunks: the same answers and records as one chunk, duplicates across chunks included', async () => {
      const keys = Array.from({ length: 130 }, (_, index) => `D-${String(index).padStart(3, '0')}`);
      const records = [...keys.map((key, index) => maximalBenefit(key.slice(0, 10), 'DENSE-CAT', index)), maximalBenefit('D-000', 'DENSE-CAT', 99), maximalBenefit('D-129', 'DENSE-CAT', 98)];
      for (const api of [dense, whole]) await api.put('/benefit-categories-batch', [category('DENSE-CAT')]);
      const [small, one] = await Promise.all([dense.put('/benefits-batch', records), whole.put('/benefits-batch', records)]);
      assert.deepEqual(small.json.data, one.json.data);
      assert.equal(small.json.data.filter((entry: Entry) => entry.status === 201).length, 130);
      for (const key of ['D-000', 'D-059', 'D-060', 'D-129']) {
        assert.deepEqual(withoutAudit((await dense.get(`/benefits/${key}`)).json.data), withoutAudit((await whole.get(`/benefits/${key}`)).json.data), key);
      }
    });
  });
}
