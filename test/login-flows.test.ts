import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../src/config.js';
import { apiOf, startApi, type Api, type Credentials, type RunningApi } from './support/api.js';
import { backends } from './support/backends.js';
import { administrator, authenticate, keyOnlyHeaders, operatorUser, userBody } from './support/identity.js';

const LOCK_SECONDS = 2;

test('the defaults: 5 failures within 15 minutes lock for 15 minutes; sessions live 30 days', () => {
  const { lockoutAttempts, lockoutWindowSeconds, lockoutSeconds, refreshTokenDays } = loadConfig({});
  assert.deepEqual({ lockoutAttempts, lockoutWindowSeconds, lockoutSeconds, refreshTokenDays }, {
    lockoutAttempts: 5,
    lockoutWindowSeconds: 900,
    lockoutSeconds: 900,
    refreshTokenDays: 30,
  });
});

for (const backend of backends) {
  describe(`temporary passwords, password policy and lockout (6.3) on ${backend.name}`, { skip: backend.skip }, () => {
    let api: RunningApi;
    let admin: Api;
    before(async () => {
      api = await startApi(backend, { lockoutAttempts: 5, lockoutWindowSeconds: 900, lockoutSeconds: LOCK_SECONDS });
      admin = await administrator(api);
    });
    after(async () => api?.stop());

    const changeTemporary = (credentials: Credentials, body: unknown) =>
      api.request('POST', '/change-temporary-password', { body, headers: keyOnlyHeaders(credentials) });
    const works = async (token: string) => (await apiOf(api.app, api.store, { apiKey: api.credentials.apiKey, token }).get('/groups')).status;

    test('a password set by an administrator is temporary: NEW_PASSWORD_REQUIRED, then change-temporary-password', async () => {
      const created = await admin.request('POST', '/users', { body: userBody('tina', { password: 'tina-temporary-pw' }) });
      assert.equal(created.status, 200, created.text);
      const tina = { ...api.credentials, username: 'tina', password: 'tina-temporary-pw' };
      const challenge = await authenticate(api.app, tina);
      assert.equal(challenge.status, 200);
      assert.equal(challenge.json.data.challengeName, 'NEW_PASSWORD_REQUIRED');
      assert.equal(challenge.json.data.authenticationResult, null);
      const sessionValue = challenge.json.data.session as string;
      assert.ok(sessionValue.length >= 32);

      const weak = await changeTemporary(tina, { userID: 'tina', newPassword: 'short', session: sessionValue });
      assert.equal(weak.status, 400);
      assert.deepEqual(weak.json.error.errors.map((error: { field: string }) => error.field), ['newPassword']);
      assert.equal((await changeTemporary(tina, { userID: 'tina', newPassword: 'TINA', session: sessionValue })).status, 400, 'not the user ID');
      assert.equal((await changeTemporary(tina, { userID: 'tester', newPassword: 'a-good-long-password', session: sessionValue })).status, 401, 'another user');
      assert.equal((await changeTemporary(tina, { userID: 'tina', newPassword: 'a-good-long-password', session: 'forged' })).status, 401);
      assert.equal((await changeTemporary(tina, { newPassword: 'a-good-long-password' })).status, 400);

      const done = await changeTemporary(tina, { userID: 'tina', newPassword: 'tina-own-password', session: sessionValue });
      assert.equal(done.status, 200, done.text);
      assert.equal(done.json.data.challengeName, null);
      assert.equal(await works(done.json.data.authenticationResult.idToken), 200);
      assert.equal((await changeTemporary(tina, { userID: 'tina', newPassword: 'yet-another-password', session: sessionValue })).status, 401, 'single use');

      assert.equal((await authenticate(api.app, tina)).status, 401, 'the temporary password is gone');
      const permanent = await authenticate(api.app, { ...tina, password: 'tina-own-password' });
      assert.equal(permanent.json.data.challengeName, null);
      assert.ok(permanent.json.data.authenticationResult.idToken);
      assert.equal((await admin.get('/users/tina')).json.data.vbA_Password_Reset, false);
    });

    test('an operator user created with temporary: true gets the challenge; an expired challenge is refused', async () => {
      const tom = await operatorUser(api.store, api.credentials, 'tom', { temporary: true });
      const challenge = await authenticate(api.app, tom);
      assert.equal(challenge.json.data.challengeName, 'NEW_PASSWORD_REQUIRED');
      await api.store.registry.query(`UPDATE challenges SET expires_at = now() - interval '1 second'`);
      const late = await changeTemporary(tom, { userID: 'tom', newPassword: 'tom-own-password', session: challenge.json.data.session });
      assert.equal(late.status, 401);
    });

    test(`${5} failures lock a username (known or not) with the same 401; it opens after the lock time; success resets`, async () => {
      const lou = await operatorUser(api.store, api.credentials, 'lou');
      const wrong = { ...lou, password: 'not-the-password' };
      const ghost = { ...lou, username: 'ghost' };
      const message = (await authenticate(api.app, wrong)).json.error.detail;
      for (let attempt = 2; attempt <= 5; attempt++) assert.equal((await authenticate(api.app, wrong)).status, 401);
      const locked = await authenticate(api.app, lou);
      assert.equal(locked.status, 401, 'the right password is refused while locked');
      assert.equal(locked.json.error.detail, message, 'with the same message');
      assert.equal((await admin.get('/users/lou')).json.data.account_Locked, true);
      for (let attempt = 1; attempt <= 6; attempt++) {
        const answer = await authenticate(api.app, ghost);
        assert.equal(answer.status, 401);
        assert.equal(answer.json.error.detail, message, 'an unknown user gets the same answer');
      }
      const [ghostRow] = await api.store.registry.query<{ locked: boolean }>(
        `SELECT locked_until > now() AS locked FROM login_failures WHERE username = 'ghost'`,
      );
      assert.equal(ghostRow?.locked, true, 'unknown usernames lock the same way');

      await sleep(LOCK_SECONDS * 1000 + 500);
      const open = await authenticate(api.app, lou);
      assert.equal(open.status, 200, 'the lock expired');
      assert.equal((await admin.get('/users/lou')).json.data.account_Locked, false);
      for (let attempt = 1; attempt <= 4; attempt++) await authenticate(api.app, wrong);
      assert.equal((await authenticate(api.app, lou)).status, 200, 'four failures do not lock; the success resets the count');
      for (let attempt = 1; attempt <= 4; attempt++) await authenticate(api.app, wrong);
      assert.equal((await authenticate(api.app, lou)).status, 200, 'counting started again after the success');
    });
  });
}
