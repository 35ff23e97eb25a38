import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from './support/backends.js';
import { startApi, type RunningApi } from './support/api.js';
import { benefitCategoryFields, benefitFields, groupFields, type ContractField } from './support/contract-fields.js';
import { benefit, category, group, maximalBenefit, maximalCategory, maximalGroup, wideText, type Json } from './support/records.js';

const statuses = (answer: { json: { data: { status: number }[] } }) => answer.json.data.map((entry) => entry.status);

for (const backend of backends) {
  describe(`batch upserts on ${backend.name}`, { skip: backend.skip }, () => {
    let api: RunningApi;
    before(async () => {
      api = await startApi(backend);
    });
    after(async () => api?.stop());

    test('an empty array answers 207 with data: []', async () => {
      const answer = await api.put('/groups-batch', []);
      assert.equal(answer.status, 207);
      assert.deepEqual(answer.json.data, []);
      assert.equal(answer.json.error, null);
    });

    test('new keys answer 201 Created and existing keys 200 Updated, with id key/value pairs in input order', async () => {
      const first = await api.put('/groups-batch', [group('ORD-2'), group('ORD-1')]);
      assert.equal(first.status, 207);
      assert.deepEqual(first.json.data, [
        { id: [{ key: 'group_ID', value: 'ORD-2' }], status: 201, body: 'Created' },
        { id: [{ key: 'group_ID', value: 'ORD-1' }], status: 201, body: 'Created' },
      ]);
      const second = await api.put('/groups-batch', [group('ORD-3'), group('ORD-1', { name: 'renamed' })]);
      assert.deepEqual(statuses(second), [201, 200]);
      assert.equal(second.json.data[1].body, 'Updated');
      assert.equal((await api.get('/groups/ORD-1')).json.data.name, 'renamed');
    });

    for (const [label, path, fields, makeRecord, prepare] of [
      ['group', 'groups', groupFields, (key: string) => maximalGroup(key, 3), async () => undefined],
      ['benefit category', 'benefit-categories', benefitCategoryFields, (key: string) => maximalCategory(key, 5), async () => undefined],
      [
        'benefit',
        'benefits',
        benefitFields,
        (key: string) => maximalBenefit(key, wideText(32, 7), 2),
        async () => assert.deepEqual(statuses(await api.put('/benefit-categories-batch', [category(wideText(32, 7))])), [201]),
      ],
    ] as const) {
      test(`every ${label} field (${fields.length}) round-trips at its maximum length in non-ASCII text`, async () => {
        await prepare();
        const key = wideText(fields[0]!.maxLength!, 9);
        const record: Json = makeRecord(key);
        const write = await api.put(`/${path}-batch`, [record]);
        assert.deepEqual(write.json.data, [{ id: [{ key: fields[0]!.name, value: key }], status: 201, body: 'Created' }]);
        const read = await api.get(`/${path}/${encodeURIComponent(key)}`);
        assert.equal(read.status, 200);
        assert.deepEqual(Object.keys(read.json.data), fields.map((field) => field.name), 'every field, in the vendor order');
        for (const field of fields) {
          const sent = record[field.name];
          const got = read.json.data[field.name];
          if (/^(entry|update)_(Date|User)$/.test(field.name)) continue; // server-owned, checked elsewhere
          if (field.type === 'date-time') assert.equal(got, new Date(sent as string).toISOString(), field.name);
          else assert.deepEqual(got, sent, field.name);
        }
      });
    }

    test('a field one character over its maximum is a 400 naming the field; lengths count code points', async () => {
      const tooLong = group('LEN-1', { name: wideText(51) });
      const exact = group('LEN-2', { name: '😀'.repeat(50) }); // 100 UTF-16 units, 50 characters
      const answer = await api.put('/groups-batch', [tooLong, exact]);
      assert.deepEqual(statuses(answer), [400, 201]);
      assert.equal(answer.json.data[0].body, 'name: must be at most 50 characters');
    });

    describe('every 400 names its field', () => {
      const cases: [string, string, ContractField[], (key: string, extra: Json) => Json][] = [
        ['groups-batch', 'group_ID', groupFields, group],
        ['benefits-batch', 'benefit_Code', benefitFields, benefit],
        ['benefit-categories-batch', 'benefit_Category', benefitCategoryFields, category],
      ];
      for (const [path, keyName, fields, make] of cases) {
        test(`${path}: a wrong value in each client field`, async () => {
          const clientFields = fields.filter((field) => !/^(entry|update)_(Date|User)$/.test(field.name));
          const records = clientFields.map((field, index) => {
            const bad = field.type === 'string' ? 42 : field.type === 'boolean' ? 'true' : field.type === 'int32' ? '5' : field.type === 'double' ? 'NaN' : 'not a date';
            const key = `BAD${index}`;
            return field.name === keyName ? { ...make(key, {}), [keyName]: 42 } : make(key, { [field.name]: bad });
          });
          const answer = await api.put(`/${path}`, records);
          assert.equal(answer.status, 207);
          clientFields.forEach((field, index) => {
            const entry = answer.json.data[index];
            assert.equal(entry.status, 400, field.name);
            assert.match(entry.body, new RegExp(`^${field.name}: must be `), field.name);
          });
        });
      }

      test('a missing or null required field is named, and every problem of a record is listed', async () => {
        const answer = await api.put('/benefits-batch', [
          { benefit_Code: 'REQ1', allow_Flat_Tax: true, pend_Flag: 'N' },
          { benefit_Code: 'REQ2', allow_Flat_Tax: null, medicare: 'NN', pend_Flag: 'N' },
          { benefit_Code: '', allow_Flat_Tax: true, medicare: 'N', pend_Flag: 'N' },
        ]);
        assert.deepEqual(answer.json.data.map((entry: { body: string }) => entry.body), [
          'medicare: is required',
          'allow_Flat_Tax: must not be null; medicare: must be exactly 1 character',
          'benefit_Code: must be 1-10 characters',
        ]);
      });

      test('types are never coerced', async () => {
        const answer = await api.put('/groups-batch', [
          group('CO-1', { admin_COBRA: 'true' }),
          group('CO-2', { adult_Age: '5' }),
          group('CO-3', { adult_Age: 5.5 }),
          group('CO-4', { adult_Age: 2_147_483_648 }),
          group('CO-5', { caseRate: '1.5' }),
          group('CO-6', { name: 5 }),
          group('CO-7', { adult_Age: -2_147_483_648, caseRate: 1e300 }),
        ]);
        assert.deepEqual(answer.json.data.map((entry: { body: string }) => entry.body), [
          'admin_COBRA: must be a boolean (true or false)',
          'adult_Age: must be an integer or null',
          'adult_Age: must be an integer or null',
          'adult_Age: must be a 32-bit integer (-2147483648 to 2147483647)',
          'caseRate: must be a number or null',
          'name: must be a string or null',
          'Created',
        ]);
      });

      test('a record that is not an object, or has no usable key, reports value: null', async () => {
        const answer = await api.put('/groups-batch', [42, null, 'G', [], { ...group('x'), group_ID: 7 }]);
        for (const entry of answer.json.data) {
          assert.equal(entry.status, 400);
          assert.deepEqual(entry.id, [{ key: 'group_ID', value: null }]);
        }
        assert.equal(answer.json.data[0].body, 'record: must be a JSON object');
      });

      test('NUL characters and unpaired surrogates are a 400 for that record, not a failed batch', async () => {
        const answer = await api.request('PUT', '/groups-batch', {
          raw: `[${JSON.stringify(group('NUL-1')).replace('}', ',"name":"a\\u0000b"}')},${JSON.stringify(group('SUR-1')).replace('}', ',"city":"\\ud800"}')},${JSON.stringify(group('OK-1'))}]`,
        });
        assert.deepEqual(statuses(answer), [400, 400, 201]);
        assert.equal(answer.json.data[0].body, 'name: must not contain the NUL character');
        assert.equal(answer.json.data[1].body, 'city: must not contain unpaired UTF-16 surrogates');
      });
    });

    test('invalid records never block valid ones', async () => {
      const answer = await api.put('/groups-batch', [group('MIX-1'), { group_ID: 'MIX-2' }, group('MIX-3')]);
      assert.deepEqual(statuses(answer), [201, 400, 201]);
      assert.equal((await api.get('/groups/MIX-2')).status, 404);
      assert.equal((await api.get('/groups/MIX-3')).status, 200);
    });

    describe('dates', () => {
      const accepted: [string, string][] = [
        ['2024-01-02T03:04:05Z', '2024-01-02T03:04:05.000Z'],
        ['2024-01-02T03:04:05.123456Z', '2024-01-02T03:04:05.123Z'],
        ['2024-01-02T03:04:05+02:00', '2024-01-02T01:04:05.000Z'],
        ['2024-01-02T03:04:05-0530', '2024-01-02T08:34:05.000Z'],
        ['2024-01-02T03:04:05', '2024-01-02T03:04:05.000Z'],
        ['2024-01-02', '2024-01-02T00:00:00.000Z'],
        ['2024-01-02 03:04:05 UTC', '2024-01-02T03:04:05.000Z'],
        ['2024-01-02 03:04:05 +0000', '2024-01-02T03:04:05.000Z'],
        ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
        ['0001-01-01', '0001-01-01T00:00:00.000Z'],
      ];
      test('accepted input forms are stored and returned as ISO 8601 UTC', async () => {
        const records = accepted.map(([input], index) => group(`DATE-${index}`, { disenroll_Date: input }));
        assert.deepEqual(new Set(statuses(await api.put('/groups-batch', records))), new Set([201]));
        for (const [index, [, expected]] of accepted.entries()) {
          assert.equal((await api.get(`/groups/DATE-${index}`)).json.data.disenroll_Date, expected, accepted[index]![0]);
        }
      });
      test('anything else is a 400 naming the field', async () => {
        const rejected = ['2024-13-01', '2023-02-29', '2024-01-02T25:00:00Z', 'yesterday', '01/02/2024', '2024-01-02T03:04:05+25:00', '', '10000-01-01'];
        const answer = await api.put('/groups-batch', rejected.map((input, index) => group(`BADDATE-${index}`, { original_Date: input })));
        for (const entry of answer.json.data) {
          assert.equal(entry.status, 400);
          assert.match(entry.body, /^original_Date: must be an ISO 8601 date-time/);
        }
      });
    });

    test('audit fields belong to the server: client values are ignored, entry_* is kept on update', async () => {
      const forged = { entry_Date: '1999-01-01T00:00:00Z', entry_User: 'mallory', update_Date: 'garbage', update_User: 42 };
      assert.deepEqual(statuses(await api.put('/groups-batch', [group('AUD-1', forged)])), [201]);
      const created = (await api.get('/groups/AUD-1')).json.data;
      assert.notEqual(created.entry_Date, forged.entry_Date);
      assert.ok(Date.now() - Date.parse(created.entry_Date) < 60_000, 'entry_Date is the server time');
      assert.equal(created.entry_User, 'tester', 'the authenticated username');
      assert.equal(created.update_User, 'tester');
      assert.equal(created.update_Date, created.entry_Date);
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.deepEqual(statuses(await api.put('/groups-batch', [group('AUD-1', { ...forged, name: 'again' })])), [200]);
      const updated = (await api.get('/groups/AUD-1')).json.data;
      assert.equal(updated.entry_Date, created.entry_Date);
      assert.ok(updated.update_Date > created.update_Date, 'update_Date moves on every write');
    });

    test('unknown fields are ignored and use_Employer_State defaults to false', async () => {
      const answer = await api.put('/groups-batch', [group('UNK-1', { no_Such_Field: 1, GROUP_ID: 'x', __proto__: { polluted: true } })]);
      assert.deepEqual(statuses(answer), [201]);
      const stored = (await api.get('/groups/UNK-1')).json.data;
      assert.equal(stored.use_Employer_State, false);
      assert.equal('no_Such_Field' in stored, false);
      assert.deepEqual(statuses(await api.put('/groups-batch', [group('UNK-1', { use_Employer_State: null })])), [200]);
      assert.equal((await api.get('/groups/UNK-1')).json.data.use_Employer_State, false);
    });

    describe('references', () => {
      test('a benefit naming an unknown category is a 422 naming field and value; others still apply', async () => {
        await api.put('/benefit-categories-batch', [category('DENTAL')]);
        const answer = await api.put('/benefits-batch', [
          benefit('REF-1', { benefit_Category: 'DENTAL' }),
          benefit('REF-2', { benefit_Category: 'NOPE' }),
          benefit('REF-3', { benefit_Category: null }),
          benefit('REF-4'),
        ]);
        assert.deepEqual(statuses(answer), [201, 422, 201, 201]);
        assert.equal(answer.json.data[1].body, 'benefit_Category: no benefit category "NOPE" exists');
        assert.deepEqual(answer.json.data[1].id, [{ key: 'benefit_Code', value: 'REF-2' }]);
        assert.equal((await api.get('/benefits/REF-2')).status, 404);
        assert.equal((await api.get('/benefits/REF-1')).json.data.benefit_Category, 'DENTAL');
      });

      test('category keys match exactly (case-sensitive)', async () => {
        const answer = await api.put('/benefits-batch', [benefit('REF-5', { benefit_Category: 'dental' })]);
        assert.deepEqual(statuses(answer), [422]);
      });
    });

    describe('duplicate keys are applied as if sent one after another', () => {
      test('a new key: 201, then 200s; the last one is stored', async () => {
        const answer = await api.put('/groups-batch', [group('DUP-1', { name: 'a' }), group('DUP-1', { name: 'b' }), group('DUP-1', { name: 'c' })]);
        assert.deepEqual(statuses(answer), [201, 200, 200]);
        assert.equal((await api.get('/groups/DUP-1')).json.data.name, 'c');
      });
      test('an existing key: 200 each time', async () => {
        const answer = await api.put('/groups-batch', [group('DUP-1', { name: 'd' }), group('DUP-1', { name: 'e' })]);
        assert.deepEqual(statuses(answer), [200, 200]);
        assert.equal((await api.get('/groups/DUP-1')).json.data.name, 'e');
      });
      test('invalid occurrences do not count: the last valid one is stored', async () => {
        const answer = await api.put('/groups-batch', [
          { group_ID: 'DUP-2' },
          group('DUP-2', { name: 'first valid' }),
          group('DUP-2', { name: 'last valid' }),
          group('DUP-2', { name: 'x'.repeat(51) }),
        ]);
        assert.deepEqual(statuses(answer), [400, 201, 200, 400]);
        assert.equal((await api.get('/groups/DUP-2')).json.data.name, 'last valid');
      });
      test('a benefit occurrence with a missing category is a 422 and does not replace the valid one', async () => {
        const answer = await api.put('/benefits-batch', [
          benefit('DUP-3', { benefit_Description: 'kept' }),
          benefit('DUP-3', { benefit_Description: 'dropped', benefit_Category: 'NOPE' }),
        ]);
        assert.deepEqual(statuses(answer), [201, 422]);
        assert.equal((await api.get('/benefits/DUP-3')).json.data.benefit_Description, 'kept');
      });
    });

    test('large batches (written by COPY) keep every character: tabs, newlines, backslashes, \\N, non-ASCII', async () => {
      const tricky = ['tab\there', 'line\nbreak', 'cr\rhere', 'back\\slash', '\\N', '\\.', 'end\\', '中文 😀', ' lead', ''];
      const records = Array.from({ length: 120 }, (_, index) =>
        // Every field filled (as dense rows are written by COPY), then the tricky ones.
        ({ ...maximalGroup(`ESC-${index}`, index), name: tricky[index % tricky.length], notes: `${tricky.join('|')}#${index}`, caseRate: index / 7, adult_Age: 100 - index, use_Employer_State: index % 2 === 0 ? null : true }),
      );
      const answer = await api.put('/groups-batch', records);
      assert.ok(answer.json.data.every((entry: { status: number }) => entry.status === 201));
      for (const index of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 119]) {
        const stored = (await api.get(`/groups/ESC-${index}`)).json.data;
        assert.equal(stored.name, tricky[index % tricky.length], `name of ESC-${index}`);
        assert.equal(stored.notes, records[index]!.notes);
        assert.equal(stored.caseRate, index / 7);
        assert.equal(stored.adult_Age, 100 - index);
        assert.equal(stored.use_Employer_State, index % 2 !== 0);
        assert.equal(stored.entry_User, 'tester');
      }
    });

    test('a 5,000-group batch: all created, then all updated, every record stored', async () => {
      const records = Array.from({ length: 5000 }, (_, index) => group(`BULK-${String(index).padStart(5, '0')}`, { adult_Age: index }));
      const created = await api.put('/groups-batch', records);
      assert.equal(created.status, 207);
      assert.equal(created.json.data.length, 5000);
      assert.ok(created.json.data.every((entry: { status: number; id: { value: string }[] }, index: number) => entry.status === 201 && entry.id[0]!.value === records[index]!.group_ID));
      const updated = await api.put('/groups-batch', records.map((record) => ({ ...record, name: 'bulk' })));
      assert.ok(updated.json.data.every((entry: { status: number }) => entry.status === 200));
      const db = await api.store.tenant('test');
      const [row] = await db!.query<{ count: number; named: number; ages: number }>(
        `SELECT count(*) AS count, count(*) FILTER (WHERE name = 'bulk') AS named, sum("adult_Age") AS ages FROM groups WHERE "group_ID" LIKE 'BULK-%'`,
      );
      assert.deepEqual(row, { count: 5000, named: 5000, ages: (4999 * 5000) / 2 });
    });

    for (const [shape, make] of [['sparse', group], ['dense', (id: string, extra: Json = {}) => ({ ...maximalGroup(id), ...extra })]] as const) {
    test(`a failed transaction leaves no partial batch: nothing of the request is applied (${shape} rows)`, async () => {
      assert.deepEqual(statuses(await api.put('/groups-batch', [make('SAFE-1', { name: 'before' })])), [201]);
      const db = (await api.store.tenant('test'))!;
      // A real fault inside the database, mid-statement: a trigger that fails on one row.
      await db.query(`CREATE FUNCTION fail_on_boom() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW."group_ID" = 'SAFE-BOOM' THEN RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$`);
      await db.query(`CREATE TRIGGER boom BEFORE INSERT OR UPDATE ON groups FOR EACH ROW EXECUTE FUNCTION fail_on_boom()`);
      try {
        const records = [make('SAFE-1', { name: 'after' }), ...Array.from({ length: 200 }, (_, index) => make(`SAFE-N${index}`)), make('SAFE-BOOM'), { group_ID: 'SAFE-INVALID' }];
        const answer = await api.put('/groups-batch', records);
        assert.equal(answer.status, 207);
        const data = answer.json.data as { status: number; body: string }[];
        assert.ok(data.slice(0, -1).every((entry) => entry.status === 500 && entry.body.includes(answer.json.debug.activityID)));
        assert.ok(data.every((entry) => !/injected|trigger|SQL/i.test(entry.body)), 'no SQL detail leaks');
        assert.equal(data.at(-1)!.status, 400);
        const [row] = await db.query<{ count: number }>(`SELECT count(*) AS count FROM groups WHERE "group_ID" LIKE 'SAFE-%'`);
        assert.equal(row!.count, 1, 'only the record written before exists');
        assert.equal((await api.get('/groups/SAFE-1')).json.data.name, 'before', 'its update was rolled back');
      } finally {
        await db.query('DROP TRIGGER boom ON groups');
        await db.query('DROP FUNCTION fail_on_boom()');
        await db.query(`DELETE FROM groups WHERE "group_ID" LIKE 'SAFE-%'`);
      }
    });
    }

    test('concurrent overlapping batches all succeed and agree with the final state', async () => {
      const keys = Array.from({ length: 50 }, (_, index) => `CONC-${index}`);
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, round) => api.put('/groups-batch', [...keys].sort(() => (round % 2 ? 1 : -1)).map((key) => group(key, { adult_Age: round })))),
      );
      const created = answers.flatMap((answer) => answer.json.data).filter((entry: { status: number }) => entry.status === 201);
      assert.equal(created.length, keys.length, 'each key created exactly once');
      assert.ok(answers.every((answer) => answer.json.data.every((entry: { status: number }) => entry.status === 200 || entry.status === 201)));
    });
  });
}
