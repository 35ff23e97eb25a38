import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Accounts } from '../src/auth/accounts.js';
import { startApi, type Api, type RunningApi } from './support/api.js';
import { backends } from './support/backends.js';
import { administrator, authenticate, userBody } from './support/identity.js';

for (const backend of backends) {
  describe(`PUT /users-batch (6.2, rules of 2.1) on ${backend.name}`, { skip: backend.skip }, () => {
    let api: RunningApi;
    let admin: Api;
    before(async () => {
      api = await startApi(backend);
      admin = await administrator(api);
      await api.store.createDatabase('elsewhere');
      await new Accounts(api.store.registry).createUser('test-client', 'remote', 'remote-password', ['elsewhere']);
    });
    after(async () => api?.stop());

    test('one answer per record in input order: created, updated, invalid, duplicates, not this database', async () => {
      const answer = await admin.put('/users-batch', [
        userBody('ann', { password: 'ann-temporary-pw', city: 'Oslo' }),
        userBody('tester', { city: 'Rome' }),
        { ...userBody('x'), user_ID: undefined },
        userBody('bad', { password: 'short' }),
        userBody('nopass'),
        userBody('ann', { city: 'Bergen' }),
        userBody('remote', { password: 'remote-new-password' }),
        userBody('bob', { vbA_User: 'yes', password: 'bob-temporary-pw' }),
        'not an object',
      ]);
      assert.equal(answer.status, 207, answer.text);
      const summary = answer.json.data.map((entry: { id: [{ value: string | null }]; status: number }) => [entry.id[0].value, entry.status]);
      assert.deepEqual(summary, [
        ['ann', 201],
        ['tester', 200],
        [null, 400],
        ['bad', 400],
        ['nopass', 400],
        ['ann', 200],
        ['remote', 409],
        ['bob', 400],
        [null, 400],
      ]);
      assert.equal(answer.json.data[0].body, 'Created');
      assert.equal(answer.json.data[1].body, 'Updated');
      assert.match(answer.json.data[2].body, /user_ID: is required/);
      assert.match(answer.json.data[3].body, /password: must be at least 12 characters/);
      assert.match(answer.json.data[4].body, /password: is required for a new user/);
      assert.match(answer.json.data[7].body, /vbA_User/);

      const ann = (await admin.get('/users/ann')).json.data;
      assert.equal(ann.city, 'Bergen', 'the last occurrence is stored');
      assert.equal(ann.vbA_Password_Reset, true);
      assert.equal((await admin.get('/users/tester')).json.data.city, 'Rome');
      assert.equal((await admin.get('/users/bad')).status, 404);
      const challenged = await authenticate(api.app, { ...api.credentials, username: 'ann', password: 'ann-temporary-pw' });
      assert.equal(challenged.json.data.challengeName, 'NEW_PASSWORD_REQUIRED', 'batch passwords are temporary');
      const [remote] = await api.store.registry.query<{ city: string | null }>(`SELECT city FROM users WHERE username = 'remote'`);
      assert.equal(remote?.city, null, 'a user not granted this database was not changed');
    });

    test('[] → 207 with []; not an array → 400', async () => {
      const empty = await admin.put('/users-batch', []);
      assert.equal(empty.status, 207);
      assert.deepEqual(empty.json.data, []);
      assert.equal((await admin.put('/users-batch', { user_ID: 'x' })).status, 400);
    });

    test('more than 1,000 users in one request → 413 (each may carry a password to hash), nothing applied', async () => {
      const records = Array.from({ length: 1_001 }, (_, index) => userBody(`many${index}`, { password: 'many-temporary-pw' }));
      const answer = await admin.put('/users-batch', records);
      assert.equal(answer.status, 413, answer.text);
      assert.match(answer.json.error.detail, /at most 1000 records.*this one has 1001/);
      assert.equal((await admin.get('/users/many0')).status, 404);
    });
  });
}
