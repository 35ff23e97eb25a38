import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { apiOf, startApi, type Api, type RunningApi } from './support/api.js';
import { backends } from './support/backends.js';
import { administrator, authenticate, operatorUser, session, userBody } from './support/identity.js';

for (const backend of backends) {
  describe(`admin-disable/enable/reset-password, change-password, sessions ending (6.2) on ${backend.name}`, { skip: backend.skip }, () => {
    let api: RunningApi;
    let admin: Api;
    before(async () => {
      api = await startApi(backend);
      admin = await administrator(api);
    });
    after(async () => api?.stop());

    const works = async (token: string) => (await apiOf(api.app, api.store, { apiKey: api.credentials.apiKey, token }).get('/groups')).status;

    test('disable ends every session of the user and refuses logins (same 401); enable lets them in again', async () => {
      const vic = await operatorUser(api.store, api.credentials, 'vic');
      const [one, two] = [await session(api.app, api.store, vic), await session(api.app, api.store, vic)];
      const wrongPassword = (await authenticate(api.app, { ...vic, password: 'not-the-password' })).json.error.detail;
      const disabled = await admin.request('POST', '/users/vic/admin-disable');
      assert.equal(disabled.status, 200);
      assert.equal(typeof disabled.json.data, 'string');
      assert.equal(await works(one.idToken), 401);
      assert.equal(await works(two.idToken), 401);
      const refused = await authenticate(api.app, vic);
      assert.equal(refused.status, 401);
      assert.equal(refused.json.error.detail, wrongPassword);
      assert.equal((await admin.request('POST', '/users/vic/admin-enable')).status, 200);
      assert.equal((await authenticate(api.app, vic)).status, 200);
      assert.equal(await works(one.idToken), 401, 'enabling does not revive ended sessions');
    });

    test('reset-password returns a new temporary password once, ends sessions, and the next login is challenged', async () => {
      const rae = await operatorUser(api.store, api.credentials, 'rae');
      const before = await session(api.app, api.store, rae);
      const reset = await admin.request('POST', '/users/rae/admin-reset-password');
      assert.equal(reset.status, 200);
      const temporary = reset.json.data as string;
      assert.ok(temporary.length >= 12);
      assert.equal(await works(before.idToken), 401);
      assert.equal((await authenticate(api.app, rae)).status, 401, 'the old password is gone');
      const challenged = await authenticate(api.app, { ...rae, password: temporary });
      assert.equal(challenged.json.data.challengeName, 'NEW_PASSWORD_REQUIRED');
      assert.equal((await admin.get('/users/rae')).json.data.vbA_Password_Reset, true);
    });

    test('a password set by update ends sessions; delete ends them too', async () => {
      const uma = await operatorUser(api.store, api.credentials, 'uma');
      const first = await session(api.app, api.store, uma);
      assert.equal((await admin.request('PUT', '/users/uma', { body: userBody('uma') })).status, 200);
      assert.equal(await works(first.idToken), 200, 'an update without a password keeps sessions');
      assert.equal((await admin.request('PUT', '/users/uma', { body: userBody('uma', { password: 'uma-temporary-pw' }) })).status, 200);
      assert.equal(await works(first.idToken), 401);
      const del = await operatorUser(api.store, api.credentials, 'del');
      const hers = await session(api.app, api.store, del);
      assert.equal((await admin.request('DELETE', '/users/del')).status, 204);
      assert.equal(await works(hers.idToken), 401);
      assert.equal((await authenticate(api.app, del)).status, 401);
    });

    test('change-password: any user for themself; wrong previous → 401, weak → 400, someone else → 403', async () => {
      const own = await session(api.app, api.store, api.credentials); // tester: not an administrator
      const change = (userId: string, body: unknown) => own.api.request('POST', `/users/${userId}/change-password`, { body });
      assert.equal((await change('tester', { previousPassword: 'wrong-password', proposedPassword: 'tester-new-password' })).status, 401);
      const weak = await change('tester', { previousPassword: api.credentials.password, proposedPassword: 'short' });
      assert.equal(weak.status, 400);
      assert.deepEqual(weak.json.error.errors.map((error: { field: string }) => error.field), ['proposedPassword']);
      assert.equal((await change('boss', { previousPassword: api.credentials.password, proposedPassword: 'tester-new-password' })).status, 403);
      assert.equal((await change('tester', { accessToken: 'someone-elses', previousPassword: api.credentials.password, proposedPassword: 'tester-new-password' })).status, 401);
      const done = await change('tester', { accessToken: own.accessToken, previousPassword: api.credentials.password, proposedPassword: 'tester-new-password' });
      assert.equal(done.status, 200, done.text);
      assert.equal(typeof done.json.data, 'string');
      assert.equal((await authenticate(api.app, api.credentials)).status, 401);
      const fresh = await authenticate(api.app, { ...api.credentials, password: 'tester-new-password' });
      assert.equal(fresh.json.data.challengeName, null, 'a password chosen by its user is permanent');
    });
  });
}
