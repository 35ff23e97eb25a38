import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { signedIn, startApi, TENANT, type RunningApi } from './support/api.js';
import { backends } from './support/backends.js';
import { benefitCategoryFields, benefitFields, groupFields } from './support/contract-fields.js';
import { benefit, category, group } from './support/records.js';

const DEFAULT_CAP = 65_535;

for (const backend of backends) {
  describe(`bounded text and requests on ${backend.name}`, { skip: backend.skip }, () => {
    let api: RunningApi;
    before(async () => {
      api = await startApi(backend);
      await api.put('/benefit-categories-batch', [category('CAT')]);
    });
    after(async () => api?.stop());

    test(`notes (no vendor maximum) is capped at ${DEFAULT_CAP} characters: single writes and batches → 400 naming the field`, async () => {
      const atCap = 'é'.repeat(DEFAULT_CAP); // characters, not bytes
      assert.equal((await api.request('POST', '/groups', { body: group('CAP-OK', { notes: atCap }) })).status, 200);
      const over = await api.request('POST', '/groups', { body: group('CAP-NO', { notes: `${atCap}x` }) });
      assert.equal(over.status, 400);
      assert.deepEqual(over.json.error.errors, [{ field: 'notes', message: `must be at most ${DEFAULT_CAP} characters` }]);
      const replaced = await api.request('PUT', '/groups/CAP-OK', { body: group('CAP-OK', { notes: `${atCap}x` }) });
      assert.equal(replaced.status, 400);
      assert.equal(replaced.json.error.errors[0].field, 'notes');
      const batch = await api.put('/groups-batch', [group('CAP-B1', { notes: `${atCap}x` }), group('CAP-B2', { notes: 'short' })]);
      assert.equal(batch.status, 207);
      assert.deepEqual(
        batch.json.data.map((entry: { status: number; body: string }) => [entry.status, entry.body]),
        [
          [400, `notes: must be at most ${DEFAULT_CAP} characters`],
          [201, 'Created'],
        ],
      );
      assert.equal((await api.get('/groups/CAP-B1')).status, 404);
      assert.equal((await api.get('/groups/CAP-OK')).json.data.notes, atCap, 'the refused replacement changed nothing');
    });

    test('the cap is configurable (VBAPI_MAX_TEXT_CHARS)', async () => {
      const small = await signedIn(api.store, 'small-cap', TENANT, { maxTextChars: 10 });
      try {
        assert.equal((await small.request('POST', '/groups', { body: group('SMALL-1', { notes: '0123456789' }) })).status, 200);
        const over = await small.request('POST', '/groups', { body: group('SMALL-2', { notes: '0123456789A' }) });
        assert.equal(over.status, 400);
        assert.deepEqual(over.json.error.errors, [{ field: 'notes', message: 'must be at most 10 characters' }]);
        assert.equal((await small.put('/groups-batch', [group('SMALL-3', { notes: '0123456789A' })])).json.data[0].status, 400);
      } finally {
        await small.app.close();
      }
    });

    test('PUT on a key that cannot exist (too long, NUL) → 404 like GET and DELETE, on every record type', async () => {
      const types = [
        { path: 'benefit-categories', fields: benefitCategoryFields, body: (key: string) => category(key) },
        { path: 'benefits', fields: benefitFields, body: (key: string) => benefit(key, { benefit_Category: 'CAT' }) },
        { path: 'groups', fields: groupFields, body: (key: string) => group(key) },
      ];
      for (const { path, fields, body } of types) {
        const tooLong = 'K'.repeat(fields[0]!.maxLength! + 1);
        for (const segment of [tooLong, '%00', `A%00B`]) {
          const key = decodeURIComponent(segment);
          for (const payload of [body(key), {}, body('OTHER')]) {
            const put = await api.request('PUT', `/${path}/${segment}`, { body: payload });
            assert.equal(put.status, 404, `PUT /${path}/${segment} ${JSON.stringify(payload).slice(0, 60)}: ${put.text}`);
            assert.equal(put.json.error.status, 404);
          }
          assert.equal((await api.get(`/${path}/${segment}`)).status, 404);
          assert.equal((await api.request('DELETE', `/${path}/${segment}`)).status, 404);
        }
      }
    });

    /**
     * Values stored before the cap (or by SQL) still list. 12 groups of 50 MB notes: built whole, the
     * page is a 600 MB string, over V8's limit (RangeError → 500 for every user of the tenant).
     * Read over real HTTP and checked as it streams: each run of notes characters is counted and cut
     * out, then the rest of the body is parsed.
     */
    test('groups with 50 MB notes already stored still list: valid JSON, the envelope, x-pagination', { timeout: 600_000 }, async () => {
      const count = 12;
      const size = 50_000_000;
      const keys = Array.from({ length: count }, (_, index) => `BIG-${String(index).padStart(2, '0')}`);
      assert.equal((await api.put('/groups-batch', keys.map((key) => group(key)))).status, 207);
      const tenant = (await api.store.tenant(TENANT))!;
      for (const key of keys) await tenant.query(`UPDATE groups SET notes = repeat('n', $2) WHERE "group_ID" = $1`, [key, size]);

      const origin = await api.app.listen({ host: '127.0.0.1', port: 0 });
      {
        const { status, headers, text, removed } = await streamedGet(`${origin}/groups?pageSize=100&sortBy=group_ID`, {
          'x-api-key': api.credentials.apiKey,
          authorization: `Bearer ${api.token}`,
          'vbasoftware-database': TENANT,
          'user-agent': 'tests',
        });
        assert.equal(status, 200, text.slice(0, 500));
        assert.match(String(headers['content-type']), /^application\/json; charset=utf-8/);
        const envelope = JSON.parse(text) as { data: Record<string, unknown>[]; error: null; debug: { activityID: string } };
        assert.equal(envelope.error, null);
        assert.equal(envelope.debug.activityID, headers['x-activity-id']);
        const pagination = JSON.parse(String(headers['x-pagination']));
        assert.equal(pagination.PageSize, 100);
        assert.equal(pagination.TotalCount, envelope.data.length);
        const big = envelope.data.filter((record) => String(record.group_ID).startsWith('BIG-'));
        assert.deepEqual(big.map((record) => record.group_ID), keys);
        for (const record of big) assert.match(String(record.notes), /^n*$/);
        const notesCharacters = removed + big.reduce((sum, record) => sum + String(record.notes).length, 0);
        assert.equal(notesCharacters, count * size, 'every character of every stored value arrived');
        for (const record of envelope.data) assert.equal(Object.keys(record).length, groupFields.length, 'every field present');
      }
    });
  });
}

/** GET over HTTP; runs of 1,000+ `n` are counted and cut out of the body as it arrives, so the body stays small. */
function streamedGet(url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: Record<string, unknown>; text: string; removed: number }>((resolve, reject) => {
    const request = httpRequest(url, { headers }, (response) => {
      let text = '';
      let removed = 0;
      response.setEncoding('latin1'); // the values are ASCII; latin1 never splits a character across chunks
      response.on('data', (chunk: string) => {
        text += chunk.replace(/n{1000,}/g, (run) => {
          removed += run.length;
          return '';
        });
      });
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, text, removed }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}
