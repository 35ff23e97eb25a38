import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApi, type RunningApi } from './support/api.js';
import { backends } from './support/backends.js';
import { benefit, category, group, maximalGroup } from './support/records.js';

for (const backend of backends) {
  describe(`single records on ${backend.name}`, { skip: backend.skip }, () => {
    let api: RunningApi;
    before(async () => {
      api = await startApi(backend);
      await api.put('/benefit-categories-batch', [category('USED'), category('FREE')]);
    });
    after(async () => api?.stop());

    describe('POST creates', () => {
      test('200 with the stored record, audit fields set by the server', async () => {
        const answer = await api.request('POST', '/groups', { body: group('NEW-1', { name: 'New', entry_User: 'forged' }) });
        assert.equal(answer.status, 200);
        const record = answer.json.data;
        assert.equal(Object.keys(record).length, 98);
        assert.equal(record.group_ID, 'NEW-1');
        assert.equal(record.name, 'New');
        assert.equal(record.entry_User, 'tester');
        assert.equal(record.update_User, 'tester');
        assert.equal(record.use_Employer_State, false);
        assert.deepEqual((await api.get('/groups/NEW-1')).json.data, record);
      });
      test('an existing key → 409, nothing changed', async () => {
        const answer = await api.request('POST', '/groups', { body: group('NEW-1', { name: 'Other' }) });
        assert.equal(answer.status, 409);
        assert.equal(answer.json.data, null);
        assert.equal((await api.get('/groups/NEW-1')).json.data.name, 'New');
      });
      test('an invalid body → 400 with errors naming each field', async () => {
        const answer = await api.request('POST', '/benefits', { body: { benefit_Code: 'TOO-LONG-CODE', allow_Flat_Tax: 'yes', pend_Flag: 'N' } });
        assert.equal(answer.status, 400);
        assert.deepEqual(answer.json.error.errors, [
          { field: 'benefit_Code', message: 'must be 1-10 characters' },
          { field: 'allow_Flat_Tax', message: 'must be a boolean (true or false)' },
          { field: 'medicare', message: 'is required' },
        ]);
        for (const raw of ['[]', '"x"', '']) assert.equal((await api.request('POST', '/benefits', { raw })).status, 400, raw);
      });
      test('a benefit naming an unknown category → 422, nothing stored', async () => {
        const answer = await api.request('POST', '/benefits', { body: benefit('B-422', { benefit_Category: 'NOPE' }) });
        assert.equal(answer.status, 422);
        assert.equal(answer.json.error.detail, 'benefit_Category: no benefit category "NOPE" exists');
        assert.equal((await api.get('/benefits/B-422')).status, 404);
        assert.equal((await api.request('POST', '/benefits', { body: benefit('B-OK', { benefit_Category: 'USED' }) })).status, 200);
      });
    });

    describe('PUT replaces', () => {
      test('every client field; omitted ones become null; entry_* kept, update_* set', async () => {
        const created = (await api.request('POST', '/groups', { body: group('PUT-1', { name: 'Before', city: 'Paris', adult_Age: 26 }) })).json.data;
        await new Promise((resolve) => setTimeout(resolve, 5));
        const answer = await api.request('PUT', '/groups/PUT-1', { body: group('PUT-1', { name: 'After', admin_COBRA: true }) });
        assert.equal(answer.status, 200);
        const replaced = answer.json.data;
        assert.equal(replaced.name, 'After');
        assert.equal(replaced.admin_COBRA, true);
        assert.equal(replaced.city, null);
        assert.equal(replaced.adult_Age, null);
        assert.equal(replaced.entry_Date, created.entry_Date);
        assert.ok(replaced.update_Date > created.update_Date);
        assert.deepEqual((await api.get('/groups/PUT-1')).json.data, replaced);
      });
      test('a fetched record PUT back unchanged is accepted: audit fields, explicit nulls, dates as fetched', async () => {
        await api.request('POST', '/groups', { body: maximalGroup('ROUND', 4) });
        const fetched = (await api.get('/groups/ROUND')).json.data;
        const answer = await api.request('PUT', '/groups/ROUND', { body: fetched });
        assert.equal(answer.status, 200, answer.text);
        const { update_Date: updatedBefore, ...rest } = fetched;
        const { update_Date: updatedAfter, ...again } = answer.json.data;
        assert.deepEqual(again, rest);
        // The form generated clients send dates back in.
        const clientForm = { ...fetched, disenroll_Date: fetched.disenroll_Date.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') };
        assert.equal((await api.request('PUT', '/groups/ROUND', { body: clientForm })).status, 200);
      });
      test('a body without the key takes the path key; a different key → 400', async () => {
        const { group_ID: omitted, ...body } = group('PUT-2');
        assert.equal((await api.request('POST', '/groups', { body: group('PUT-2') })).status, 200);
        assert.equal((await api.request('PUT', '/groups/PUT-2', { body: { ...body, name: 'keyless' } })).json.data.name, 'keyless');
        const answer = await api.request('PUT', '/groups/PUT-2', { body: group('PUT-3') });
        assert.equal(answer.status, 400);
        assert.deepEqual(answer.json.error.errors, [{ field: 'group_ID', message: 'must match the key in the path' }]);
      });
      test('an unknown key → 404; an invalid body → 400; an unknown category → 422', async () => {
        assert.equal((await api.request('PUT', '/groups/NOPE', { body: group('NOPE') })).status, 404);
        assert.equal((await api.request('PUT', '/groups/PUT-2', { body: group('PUT-2', { admin_COBRA: null }) })).status, 400);
        const answer = await api.request('PUT', '/benefits/B-OK', { body: benefit('B-OK', { benefit_Category: 'NOPE' }) });
        assert.equal(answer.status, 422);
        assert.equal((await api.get('/benefits/B-OK')).json.data.benefit_Category, 'USED');
      });
      test('keys in the path are URL-decoded (+ and %20 are spaces)', async () => {
        await api.request('POST', '/groups', { body: group('A B') });
        assert.equal((await api.request('PUT', '/groups/A+B', { body: group('A B', { name: 'plus' }) })).json.data.name, 'plus');
        assert.equal((await api.request('PUT', '/groups/A%20B', { body: group('A B', { name: 'pct' }) })).json.data.name, 'pct');
      });
    });

    describe('GET reads', () => {
      test('the record the database writes as JSON holds exactly the values stored: numbers, dates, text of every kind', async () => {
        const doubles = [1e16, 0.1, 1e-7, -2.5, 123456789.125, 5e-324, 1.7976931348623157e308, 0.30000000000000004, 2];
        const texts = ['quote " backslash \\ slash /', 'tab\t newline\n return\r \u0001 \u001f \u007f', 'é中😀 \u2028 \u2029', '<script>&amp;</script>', ''];
        const dates = [['2024-02-29T23:59:59.999Z', '2024-02-29T23:59:59.999Z'], ['0001-01-01', '0001-01-01T00:00:00.000Z'], ['9999-12-31T23:59:59.9999+00:00', '9999-12-31T23:59:59.999Z'], ['2025-06-30 12:00:00 +0530', '2025-06-30T06:30:00.000Z']];
        const sent = doubles.map((caseRate, index) =>
          group(`JSON-${index}`, { caseRate, name: texts[index % texts.length], disenroll_Date: dates[index % dates.length]![0], adult_Age: index - 4, city: null }),
        );
        assert.equal((await api.put('/groups-batch', sent)).status, 207);
        for (const [index, record] of sent.entries()) {
          const read = (await api.get(`/groups/JSON-${index}`)).json.data;
          assert.equal(Object.keys(read).length, 98);
          assert.equal(read.caseRate, doubles[index], `caseRate ${doubles[index]}`);
          assert.equal(read.name, record.name);
          assert.equal(read.disenroll_Date, dates[index % dates.length]![1]);
          assert.equal(read.adult_Age, index - 4);
          assert.equal(read.city, null);
          assert.match(read.entry_Date, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        }
      });
    });

    describe('DELETE removes', () => {
      test('204 with no body; then 404', async () => {
        await api.request('POST', '/groups', { body: group('DEL 1') });
        const answer = await api.request('DELETE', '/groups/DEL+1', { headers: { 'content-type': 'application/json' } });
        assert.equal(answer.status, 204);
        assert.equal(answer.text, '');
        assert.equal((await api.get('/groups/DEL%201')).status, 404);
        const again = await api.request('DELETE', '/groups/DEL%201');
        assert.equal(again.status, 404);
        assert.equal(again.json.error.status, 404);
      });
      test('a category still used by benefits → 409 and nothing deleted', async () => {
        const answer = await api.request('DELETE', '/benefit-categories/USED');
        assert.equal(answer.status, 409);
        assert.match(answer.json.error.detail, /still used by benefit records/);
        assert.equal((await api.get('/benefit-categories/USED')).status, 200);
        assert.equal((await api.request('DELETE', '/benefit-categories/FREE')).status, 204);
        assert.equal((await api.request('DELETE', '/benefits/B-OK')).status, 204);
        assert.equal((await api.request('DELETE', '/benefit-categories/USED')).status, 204);
      });
    });
  });

  describe(`lists on ${backend.name}`, { skip: backend.skip }, () => {
    let api: RunningApi;
    // 25 groups: names with ties and nulls, ages with nulls, both booleans, dates with nulls.
    const seeded = Array.from({ length: 25 }, (_, index) =>
      group(`L${String(index).padStart(2, '0')}`, {
        name: index % 5 === 0 ? null : `name-${index % 4}`,
        adult_Age: index % 3 === 0 ? null : 30 - index,
        admin_COBRA: index % 2 === 0,
        disenroll_Date: index % 4 === 0 ? null : `2024-01-${String(28 - index).padStart(2, '0')}`,
      }),
    );
    before(async () => {
      api = await startApi(backend);
      assert.equal((await api.put('/groups-batch', [...seeded].reverse())).status, 207);
      await api.put('/benefit-categories-batch', [category('MED'), category('DEN')]);
      await api.put('/benefits-batch', ['B1', 'B2', 'B3', 'B4'].map((code, index) => benefit(code, { benefit_Category: index % 2 ? "DEN" : "MED" })));
    });
    after(async () => api?.stop());

    const ids = (answer: { json: { data: { group_ID: string }[] } }) => answer.json.data.map((record) => record.group_ID);
    const pagination = (answer: { headers: Record<string, unknown> }) => JSON.parse(String(answer.headers['x-pagination']));

    /** The expected order, computed here: nulls last ascending, first descending (PostgreSQL's default), key as tie-breaker. */
    function sorted(...keys: [string, 'asc' | 'desc'][]): string[] {
      const compare = (a: unknown, b: unknown) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : (a as string) < (b as string) ? -1 : 1);
      return [...seeded]
        .sort((a, b) => {
          for (const [name, direction] of keys) {
            const order = compare(a[name], b[name]);
            if (order) return direction === 'desc' ? -order : order;
          }
          return compare(a.group_ID, b.group_ID);
        })
        .map((record) => record.group_ID as string);
    }

    test('default: key order, page 1 of size 100, x-pagination exactly as the contract spells it', async () => {
      const answer = await api.get('/groups');
      assert.equal(answer.status, 200);
      assert.deepEqual(ids(answer), sorted());
      assert.equal(answer.headers['x-pagination'], '{"TotalCount":25,"TotalPages":1,"CurrentPage":1,"PageSize":100}');
      assert.equal(Object.keys(answer.json.data[0]).length, 98);
    });

    test('pages cover the list once, and a page past the end is empty', async () => {
      const pages = [];
      for (let page = 1; page <= 3; page++) pages.push(await api.get(`/groups?page=${page}&pageSize=10&sortBy=name`));
      assert.deepEqual(pages.map((answer) => answer.json.data.length), [10, 10, 5]);
      assert.deepEqual(pages.flatMap(ids), sorted(['name', 'asc']));
      assert.deepEqual(pagination(pages[2]!), { TotalCount: 25, TotalPages: 3, CurrentPage: 3, PageSize: 10 });
      const past = await api.get('/groups?page=4&pageSize=10');
      assert.equal(past.status, 200);
      assert.deepEqual(past.json.data, []);
      assert.deepEqual(pagination(past), { TotalCount: 25, TotalPages: 3, CurrentPage: 4, PageSize: 10 });
    });

    test('sortBy: ties broken by the key, by a date, a boolean and a nullable field, several fields, any case', async () => {
      assert.deepEqual(ids(await api.get('/groups?sortBy=name:desc')), sorted(['name', 'desc']));
      assert.deepEqual(ids(await api.get('/groups?sortBy=disenroll_Date')), sorted(['disenroll_Date', 'asc']));
      assert.deepEqual(ids(await api.get('/groups?sortBy=disenroll_Date:DESC')), sorted(['disenroll_Date', 'desc']));
      const byBoolean = ids(await api.get('/groups?sortBy=admin_COBRA:desc'));
      assert.deepEqual(byBoolean, [...seeded.filter((r) => r.admin_COBRA), ...seeded.filter((r) => !r.admin_COBRA)].map((r) => r.group_ID));
      assert.deepEqual(ids(await api.get('/groups?sortBy=ADULT_AGE:asc')), sorted(['adult_Age', 'asc']).sort((a, b) => {
        const age = (id: string) => seeded.find((r) => r.group_ID === id)!.adult_Age as number | null;
        return age(a) === age(b) ? (a < b ? -1 : 1) : age(a) === null ? 1 : age(b) === null ? -1 : age(a)! - age(b)!;
      }));
      assert.deepEqual(
        ids(await api.get('/groups?sortBy=admin_cobra:desc,%20Name%20,group_ID:desc')).slice(0, 3),
        [...seeded].filter((r) => r.admin_COBRA).sort((a, b) => (a.name === b.name ? ((a.group_ID as string) < (b.group_ID as string) ? 1 : -1) : a.name === null ? 1 : b.name === null ? -1 : (a.name as string) < (b.name as string) ? -1 : 1)).slice(0, 3).map((r) => r.group_ID),
      );
      assert.deepEqual(ids(await api.get('/groups?sortBy=group_ID:desc')), sorted(['group_ID', 'desc']));
    });

    test('benefits filter by benefitCategory (exact)', async () => {
      const answer = await api.get('/benefits?benefitCategory=DEN&sortBy=benefit_Code:desc');
      assert.deepEqual(answer.json.data.map((record: { benefit_Code: string }) => record.benefit_Code), ['B4', 'B2']);
      assert.equal(pagination(answer).TotalCount, 2);
      assert.deepEqual((await api.get('/benefits?benefitCategory=den')).json.data, []);
      assert.equal(pagination(await api.get('/benefits')).TotalCount, 4);
      assert.equal(pagination(await api.get('/benefit-categories?pageSize=1')).TotalPages, 2);
    });

    test('bad paging or an unknown sort field → 400 naming the parameter', async () => {
      for (const [query, field] of [
        ['page=0', 'page'],
        ['page=-1', 'page'],
        ['page=1.5', 'page'],
        ['page=abc', 'page'],
        ['pageSize=0', 'pageSize'],
        ['pageSize=1001', 'pageSize'],
        ['page=1&page=2', 'page'],
        ['sortBy=nope', 'sortBy'],
        ['sortBy=name:up', 'sortBy'],
        ['sortBy=name;DROP TABLE groups', 'sortBy'],
        ['sortBy=name,', 'sortBy'],
      ] as const) {
        const answer = await api.get(`/groups?${query}`);
        assert.equal(answer.status, 400, query);
        assert.equal(answer.json.error.errors[0].field, field, query);
      }
      assert.equal((await api.get('/benefits?benefitCategory=%00')).status, 400);
      assert.equal((await api.get('/groups?pageSize=1000&unknown=1')).status, 200);
    });

    test('browsers can read x-pagination (CORS), and preflights need no credentials', async () => {
      const answer = await api.get('/groups?pageSize=1', { origin: 'http://example.test' });
      assert.equal(answer.headers['access-control-allow-origin'], '*');
      assert.match(String(answer.headers['access-control-expose-headers']), /x-pagination/);
      const preflight = await api.request('OPTIONS', '/groups', {
        headers: { origin: 'http://example.test', 'access-control-request-method': 'GET', 'x-api-key': undefined, authorization: undefined },
      });
      assert.equal(preflight.status, 204);
      assert.match(String(preflight.headers['access-control-allow-headers']), /x-api-key/);
    });
  });
}
