import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Accounts } from '../src/auth/accounts.js';
import { provision, startApi, type Api, type Credentials, type RunningApi } from './support/api.js';
import { backends } from './support/backends.js';
import { authenticate, operatorUser, session, userBody } from './support/identity.js';

for (const backend of backends) {
  describe(`users (6.2) on ${backend.name}`, { skip: backend.skip }, () => {
    let api: RunningApi; // signed in as `tester`, NOT an administrator
    let admin: Api;
    let adminCredentials: Credentials;
    before(async () => {
      api = await startApi(backend);
      adminCredentials = await operatorUser(api.store, api.credentials, 'boss', { administrator: true });
      admin = (await session(api.app, api.store, adminCredentials)).api;
      // Invisible to `admin`: another client's user, and a user of the same client not granted `test`.
      await provision(api.store, 'other-client', 'test', 'olga');
      await api.store.createDatabase('elsewhere');
      await new Accounts(api.store.registry).createUser('test-client', 'remote', 'remote-password', ['elsewhere']);
    });
    after(async () => api?.stop());

    test('a non-administrator gets 403 on every administration route', async () => {
      for (const [method, url, body] of [
        ['GET', '/users', undefined],
        ['GET', '/users/tester', undefined],
        ['POST', '/users', userBody('newbie', { password: 'a-good-long-password' })],
        ['PUT', '/users/tester', userBody('tester')],
        ['DELETE', '/users/boss', undefined],
        ['PUT', '/users-batch', [userBody('newbie', { password: 'a-good-long-password' })]],
        ['POST', '/users/boss/admin-disable', undefined],
        ['POST', '/users/boss/admin-enable', undefined],
        ['POST', '/users/boss/admin-reset-password', undefined],
      ] as const) {
        const answer = await api.request(method, url, body === undefined ? {} : { body });
        assert.equal(answer.status, 403, `${method} ${url}`);
        assert.match(answer.json.error.detail, /administrator/);
      }
    });

    test('existing users carried over: permanent passwords, records with every field, password null', async () => {
      const list = await admin.get('/users?sortBy=user_ID');
      assert.equal(list.status, 200);
      assert.deepEqual(list.json.data.map((user: { user_ID: string }) => user.user_ID), ['boss', 'tester']);
      assert.deepEqual(JSON.parse(list.headers['x-pagination'] as string), { TotalCount: 2, TotalPages: 1, CurrentPage: 1, PageSize: 100 });
      const tester = list.json.data[1];
      assert.equal(Object.keys(tester).length, 47);
      assert.equal(tester.password, null);
      assert.equal(tester.vbA_Password_Reset, false, 'an operator-chosen password is permanent');
      assert.equal(tester.administrator, false);
      assert.equal(list.json.data[0].administrator, true);
      assert.equal(tester.eMail_Address, 'tester@users.invalid');
      assert.equal(tester.mfA_Enabled, false);
      assert.equal(tester.mfA_Device_Name, null);
    });

    test('another client\'s users and users not granted this database are 404', async () => {
      for (const id of ['olga', 'remote', 'nobody']) {
        assert.equal((await admin.get(`/users/${id}`)).status, 404, id);
        assert.equal((await admin.request('DELETE', `/users/${id}`)).status, 404, id);
        assert.equal((await admin.request('POST', `/users/${id}/admin-disable`)).status, 404, id);
        assert.equal((await admin.request('PUT', `/users/${id}`, { body: userBody(id) })).status, 404, id);
      }
    });

    test('create → temporary password, server-owned fields ignored; 409 existing; 400 weak or missing password', async () => {
      const created = await admin.request('POST', '/users', {
        body: userBody('carol', { password: 'carol-first-password', name: 'Carol', account_Locked: true, mfA_Enabled: true, vbA_Password_Reset: false, claim_Maximum: 12.5 }),
      });
      assert.equal(created.status, 200, created.text);
      const carol = created.json.data;
      assert.equal(carol.user_ID, 'carol');
      assert.equal(carol.name, 'Carol');
      assert.equal(carol.claim_Maximum, 12.5);
      assert.equal(carol.password, null);
      assert.equal(carol.vbA_Password_Reset, true, 'a password given over the API is temporary');
      assert.equal(carol.account_Locked, false, 'server-owned: the value sent is ignored');
      assert.equal(carol.mfA_Enabled, false, 'server-owned: the value sent is ignored');
      assert.equal(carol.entry_User, 'boss');
      assert.equal((await admin.get('/users/carol')).json.data.name, 'Carol');

      assert.equal((await admin.request('POST', '/users', { body: userBody('carol', { password: 'another-long-password' }) })).status, 409);
      for (const [body, field] of [
        [userBody('dave'), 'password'],
        [userBody('dave', { password: 'short' }), 'password'],
        [userBody('dave', { password: 'DAVE' }), 'password'],
        [userBody('dave-with-a-very-long-id', { password: 'a-good-long-password' }), 'user_ID'],
        [userBody('da:ve', { password: 'a-good-long-password' }), 'user_ID'],
        [userBody('dave', { password: 'a-good-long-password', administrator: 'yes' }), 'administrator'],
        [{ ...userBody('dave', { password: 'a-good-long-password' }), eMail_Address: undefined }, 'eMail_Address'],
      ] as const) {
        const refused = await admin.request('POST', '/users', { body });
        assert.equal(refused.status, 400, JSON.stringify(body));
        assert.ok(refused.json.error.errors.some((error: { field: string }) => error.field === field), refused.text);
      }
      assert.equal((await admin.get('/users/dave')).status, 404, 'nothing refused was stored');
    });

    test('update replaces the profile; the path key wins; password only when given', async () => {
      await admin.request('POST', '/users', { body: userBody('erin', { password: 'erin-first-password', city: 'Paris', title: 'Dr' }) });
      const updated = await admin.request('PUT', '/users/erin', { body: { ...userBody('erin', { city: 'Lyon' }), user_ID: undefined } });
      assert.equal(updated.status, 200, updated.text);
      assert.equal(updated.json.data.city, 'Lyon');
      assert.equal(updated.json.data.title, null, 'full replacement: omitted fields become null');
      assert.equal(updated.json.data.update_User, 'boss');
      assert.equal((await admin.request('PUT', '/users/erin', { body: userBody('someone-else') })).status, 400);
      assert.equal((await admin.request('PUT', '/users/erin', { body: userBody('erin', { password: 'short' }) })).status, 400);
    });

    test('delete → 204 and gone; deleting yourself → 409', async () => {
      await admin.request('POST', '/users', { body: userBody('frank', { password: 'frank-first-password' }) });
      assert.equal((await admin.request('DELETE', '/users/frank')).status, 204);
      assert.equal((await admin.get('/users/frank')).status, 404);
      assert.equal((await admin.request('DELETE', '/users/boss')).status, 409);
      assert.equal((await admin.get('/users/boss')).status, 200);
    });

    test('lists page and sort like the records (sortBy allow-list)', async () => {
      const page = await admin.get('/users?pageSize=1&page=2&sortBy=user_ID:desc');
      assert.equal(page.status, 200);
      assert.equal(page.json.data.length, 1);
      assert.equal((await admin.get('/users?sortBy=password_hash')).status, 400);
    });

    test('the login of an operator user with a permanent password gets tokens, not a challenge', async () => {
      const answer = await authenticate(api.app, api.credentials);
      assert.equal(answer.json.data.challengeName, null);
      assert.ok(answer.json.data.authenticationResult.idToken);
    });
  });
}
