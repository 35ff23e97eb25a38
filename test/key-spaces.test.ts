import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApi, type RunningApi } from './support/api.js';
import { backends } from './support/backends.js';
import { benefit, category, group } from './support/records.js';

/** Decision (issue 16): a key with leading or trailing spaces is refused, in batches and single writes alike. */
for (const backend of backends) {
  describe(`keys with outer spaces on ${backend.name}`, { skip: backend.skip }, () => {
    let api: RunningApi;
    before(async () => {
      api = await startApi(backend);
      assert.equal((await api.put('/benefit-categories-batch', [category('MEDICAL')])).status, 207);
    });
    after(() => api?.stop());

    const cases = [
      { path: 'groups', keyField: 'group_ID', padded: group('  GRP00220  ') },
      { path: 'benefits', keyField: 'benefit_Code', padded: benefit(' OV', { benefit_Category: 'MEDICAL' }) },
      { path: 'benefit-categories', keyField: 'benefit_Category', padded: category('DENTAL ') },
    ];

    test('a batch answers 400 for that record, naming the key field, and stores nothing of it', async () => {
      for (const { path, keyField, padded } of cases) {
        const answer = await api.put(`/${path}-batch`, [padded]);
        assert.equal(answer.status, 207);
        assert.deepEqual(answer.json.data, [
          { id: [{ key: keyField, value: padded[keyField] }], status: 400, body: `${keyField}: must not start or end with a space` },
        ]);
        const list = await api.get(`/${path}`);
        assert.ok(!list.json.data.some((record: Record<string, unknown>) => String(record[keyField]).trim() !== record[keyField]), path);
      }
    });

    test('POST and PUT answer 400 with the key field in errors', async () => {
      for (const { path, keyField, padded } of cases) {
        const created = await api.request('POST', `/${path}`, { body: padded });
        assert.equal(created.status, 400, path);
        assert.deepEqual(created.json.error.errors, [{ field: keyField, message: 'must not start or end with a space' }]);
        const replaced = await api.request('PUT', `/${path}/${encodeURIComponent(String(padded[keyField]))}`, { body: padded });
        assert.equal(replaced.status, 400, path);
        assert.deepEqual(replaced.json.error.errors, [{ field: keyField, message: 'must not start or end with a space' }]);
      }
    });
  });
}
