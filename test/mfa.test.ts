import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { NOT_IMPLEMENTED_ROUTES } from '../src/auth/not-implemented.js';
import { buildApp } from '../src/http/app.js';
import { document } from '../src/http/docs.js';
import { apiOf, startApi, testConfig, type Api, type Credentials, type RunningApi } from './support/api.js';
import { backends } from './support/backends.js';
import { administrator, authenticate, keyOnlyHeaders, operatorUser, session } from './support/identity.js';

/** What an authenticator app shows for this secret at this 30-second step (SHA-1, 6 digits: otpauth's defaults). */
const codeAt = (secret: string, step: number) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: step * 30_000 });
const currentStep = () => Math.floor(Date.now() / 30_000);
/** A code that is not the device's at `step` nor next to it. */
const wrongCode = (secret: string, step: number) => {
  const right = new Set([step - 1, step, step + 1].map((at) => codeAt(secret, at)));
  for (let n = 0; ; n++) {
    const code = String((Number(codeAt(secret, step)) + 1 + n * 7919) % 1_000_000).padStart(6, '0');
    if (!right.has(code)) return code;
  }
};
/**
 * Tests use the codes of the steps before, at and after "now" (all three accepted: ±1 step); with
 * at least 10 s left in the current step, those three stay accepted for the rest of the test.
 */
async function awayFromStepEdge(): Promise<number> {
  const into = Date.now() % 30_000;
  if (into > 20_000) await sleep(30_000 - into + 100);
  return currentStep();
}

const LOCK_SECONDS = 1;

test('OpenAPI: the MFA routes and the 501 routes under the vendor\'s schema names', () => {
  const doc = document as { paths: Record<string, Record<string, { operationId?: string; requestBody?: unknown; responses?: Record<string, unknown>; security?: unknown }>>; components: { schemas: Record<string, unknown> } };
  for (const name of [
    'SubmitMFACodeRequest', 'MFADeviceSetupRequest', 'MFADeviceSetupResponse', 'MFADeviceSetupResponseVBAResponse',
    'VerifyMFADeviceSetupRequest', 'VerifyMFADeviceSetupResponse', 'VerifyMFADeviceSetupResponseVBAResponse',
    'EnableMFASetupRequest', 'DisableMFASetupRequest', 'StringVBAResponse', 'BooleanVBAResponse',
  ]) {
    assert.ok(doc.components.schemas[name], name);
  }
  const routes: [string, string, string][] = [
    ['/mfa-setup', 'post', 'MFADeviceSetupResponseVBAResponse'],
    ['/mfa-verify-setup', 'post', 'VerifyMFADeviceSetupResponseVBAResponse'],
    ['/mfa-status', 'get', 'BooleanVBAResponse'],
    ['/mfa-enable', 'post', 'StringVBAResponse'],
    ['/mfa-disable', 'post', 'StringVBAResponse'],
    ['/mfa-submit-code', 'post', 'UserAuthenticationResponseVBAResponse'],
  ];
  for (const [path, method, envelope] of routes) {
    const operation = doc.paths[path]?.[method];
    assert.ok(operation?.operationId, `${method} ${path}`);
    assert.match(JSON.stringify(operation.responses?.[200]), new RegExp(`#/components/schemas/${envelope}"`), path);
  }
  assert.deepEqual(doc.paths['/mfa-submit-code']!.post!.security, [{ apiKeyAuth: [] }], 'key only');
  assert.ok(doc.paths['/mfa-enable']!.post!.responses![409]);
  for (const route of NOT_IMPLEMENTED_ROUTES) assert.ok(doc.paths[route]?.post?.responses?.[501], route);
});

for (const backend of backends) {
  describe(`multi-factor authentication (6.4, 6.3's SOFTWARE_TOKEN_MFA) on ${backend.name}`, { skip: backend.skip }, () => {
    let api: RunningApi;
    let admin: Api;
    before(async () => {
      api = await startApi(backend, { lockoutAttempts: 5, lockoutWindowSeconds: 900, lockoutSeconds: LOCK_SECONDS });
      admin = await administrator(api);
    });
    after(async () => api?.stop());

    const submit = (credentials: Credentials, body: unknown) =>
      api.request('POST', '/mfa-submit-code', { body, headers: keyOnlyHeaders(credentials) });
    const mfaRow = async (username: string) =>
      (await api.store.registry.query<Record<string, unknown>>('SELECT * FROM user_mfa WHERE client_id = $1 AND username = $2', [api.credentials.clientId, username]))[0];

    /** A user with a verified device (its code of step `step - 1` used up); returns the secret. */
    async function enrolled(username: string, step: number): Promise<{ credentials: Credentials; secret: string; api: Api }> {
      const credentials = await operatorUser(api.store, api.credentials, username);
      const own = await session(api.app, api.store, credentials);
      const setup = await own.api.request('POST', '/mfa-setup', { body: { accessToken: own.accessToken } });
      assert.equal(setup.status, 200, setup.text);
      const secret = setup.json.data.secretCode as string;
      const verified = await own.api.request('POST', '/mfa-verify-setup', {
        body: { friendlyDeviceName: `${username}'s phone`, accessToken: own.accessToken, userCode: codeAt(secret, step - 1) },
      });
      assert.equal(verified.status, 200, verified.text);
      return { credentials, secret, api: own.api };
    }

    test('end to end: setup, verify with a computed code, status, then login asks for the code; wrong 401, right tokens; secrets encrypted', async () => {
      const alice = await operatorUser(api.store, api.credentials, 'alice');
      const first = await session(api.app, api.store, alice);
      assert.deepEqual((await first.api.get('/mfa-status')).json.data, false);

      const setup = await first.api.request('POST', '/mfa-setup', { body: { accessToken: first.accessToken } });
      assert.equal(setup.status, 200, setup.text);
      const { secretCode, qrCode } = setup.json.data as { secretCode: string; qrCode: string };
      assert.match(secretCode, /^[A-Z2-7]{32}$/, '160 bits, base32');
      assert.match(qrCode, /^data:image\/png;base64,/);
      const png = Buffer.from(qrCode.slice('data:image/png;base64,'.length), 'base64');
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
      assert.deepEqual((await first.api.get('/mfa-status')).json.data, false, 'not on before the device is verified');

      const step = await awayFromStepEdge();
      const wrong = await first.api.request('POST', '/mfa-verify-setup', { body: { friendlyDeviceName: 'phone', accessToken: first.accessToken, userCode: wrongCode(secretCode, step) } });
      assert.equal(wrong.status, 400);
      assert.deepEqual(wrong.json.error.errors.map((error: { field: string }) => error.field), ['userCode']);
      const verified = await first.api.request('POST', '/mfa-verify-setup', {
        body: { friendlyDeviceName: 'Alice phone', accessToken: first.accessToken, userCode: codeAt(secretCode, step - 1) },
      });
      assert.equal(verified.status, 200, verified.text);
      assert.deepEqual(verified.json.data, { status: 'SUCCESS' });
      assert.equal((await first.api.get('/mfa-status')).json.data, true);
      const record = (await admin.get('/users/alice')).json.data;
      assert.equal(record.mfA_Enabled, true);
      assert.equal(record.mfA_Device_Name, 'Alice phone');

      // At rest: sealed, never the secret in any form.
      const row = (await mfaRow('alice'))!;
      assert.equal(row.pending_secret, null);
      assert.match(String(row.secret), /^v1\.[\w-]{8}\.[\w-]+\.[\w-]+\.[\w-]+$/);
      const stored = JSON.stringify(row);
      for (const form of [secretCode, Buffer.from(Secret.fromBase32(secretCode).bytes).toString('base64'), Buffer.from(Secret.fromBase32(secretCode).bytes).toString('hex')]) {
        assert.ok(!stored.includes(form), 'the secret is not stored in plain text');
      }

      assert.equal((await first.api.request('POST', '/logout')).status, 204);
      const login = await authenticate(api.app, alice);
      assert.equal(login.status, 200);
      assert.equal(login.json.data.challengeName, 'SOFTWARE_TOKEN_MFA');
      assert.equal(login.json.data.authenticationResult, null);
      const challenge = login.json.data.session as string;

      assert.equal((await submit(alice, { username: 'alice', mfaCode: wrongCode(secretCode, step), session: challenge })).status, 401);
      assert.equal((await submit(alice, { username: 'boss', mfaCode: codeAt(secretCode, step), session: challenge })).status, 401, 'another user');
      assert.equal((await submit(alice, { username: 'alice', mfaCode: codeAt(secretCode, step), session: 'forged' })).status, 401);
      const missing = await submit(alice, { username: 'alice' });
      assert.equal(missing.status, 400);
      assert.deepEqual(missing.json.error.errors.map((error: { field: string }) => error.field), ['mfaCode', 'session']);

      const passed = await submit(alice, { username: 'alice', mfaCode: codeAt(secretCode, step), session: challenge });
      assert.equal(passed.status, 200, passed.text);
      assert.equal(passed.json.data.challengeName, null);
      const tokens = passed.json.data.authenticationResult;
      const mine = apiOf(api.app, api.store, { apiKey: alice.apiKey, token: tokens.idToken });
      assert.equal((await mine.get('/mfa-status')).json.data, true);
      assert.equal((await submit(alice, { username: 'alice', mfaCode: codeAt(secretCode, step + 1), session: challenge })).status, 401, 'the session is single-use');

      // Replay: the code just used, and an older one still inside the window, are refused; a later one works.
      const again = (await authenticate(api.app, alice)).json.data.session as string;
      assert.equal((await submit(alice, { username: 'alice', mfaCode: codeAt(secretCode, step), session: again })).status, 401, 'replayed code');
      assert.equal((await submit(alice, { username: 'alice', mfaCode: codeAt(secretCode, step - 1), session: again })).status, 401, 'older code');
      const later = await submit(alice, { username: 'alice', mfaCode: codeAt(secretCode, step + 1), session: again });
      assert.equal(later.status, 200, 'the session survived two wrong codes; a later code works');
      assert.ok(later.json.data.authenticationResult.idToken);
    });

    test('five wrong codes spend the challenge and lock the user out (lockout); it opens again after the lock time', async () => {
      const step = await awayFromStepEdge();
      const bob = await enrolled('bob', step);
      const challenge = (await authenticate(api.app, bob.credentials)).json.data.session as string;
      for (let i = 0; i < 5; i++) {
        assert.equal((await submit(bob.credentials, { username: 'bob', mfaCode: wrongCode(bob.secret, step), session: challenge })).status, 401);
      }
      assert.equal((await submit(bob.credentials, { username: 'bob', mfaCode: codeAt(bob.secret, step), session: challenge })).status, 401, 'spent');
      assert.equal((await authenticate(api.app, bob.credentials)).status, 401, 'locked out like five wrong passwords');
      assert.equal((await admin.get('/users/bob')).json.data.account_Locked, true);
      await sleep(LOCK_SECONDS * 1000 + 300);
      const next = await authenticate(api.app, bob.credentials);
      assert.equal(next.json.data.challengeName, 'SOFTWARE_TOKEN_MFA');
      const passed = await submit(bob.credentials, { username: 'bob', mfaCode: codeAt(bob.secret, step), session: next.json.data.session });
      assert.equal(passed.status, 200, passed.text);
    });

    test('administrators turn MFA off (the device is forgotten) and on (409 without a verified device); others get 403', async () => {
      const step = await awayFromStepEdge();
      const carol = await enrolled('carol', step);
      for (const route of ['/mfa-enable', '/mfa-disable']) {
        assert.equal((await carol.api.request('POST', route, { body: { user_ID: 'carol' } })).status, 403, `${route} needs an administrator`);
      }
      const enable = (userId: unknown) => admin.request('POST', '/mfa-enable', { body: { user_ID: userId } });
      const disable = (userId: unknown) => admin.request('POST', '/mfa-disable', { body: { user_ID: userId } });
      assert.equal((await enable('carol')).status, 200, 'a verified device: MFA on (already)');
      assert.equal((await enable('nobody')).status, 404);
      assert.equal((await disable('nobody')).status, 404);
      assert.equal((await enable(undefined)).status, 400);
      assert.equal((await admin.request('POST', '/mfa-disable', { body: [] })).status, 400);

      const off = await disable('carol');
      assert.equal(off.status, 200, off.text);
      assert.equal(typeof off.json.data, 'string');
      const record = (await admin.get('/users/carol')).json.data;
      assert.deepEqual([record.mfA_Enabled, record.mfA_Device_Name], [false, null]);
      assert.equal(await mfaRow('carol'), undefined, 'the device is forgotten');
      assert.equal((await carol.api.get('/mfa-status')).json.data, false);
      const login = await authenticate(api.app, carol.credentials);
      assert.equal(login.json.data.challengeName, null, 'no MFA challenge any more');
      assert.ok(login.json.data.authenticationResult.idToken);

      const again = await enable('carol');
      assert.equal(again.status, 409, 'no verified device to turn on');
      await operatorUser(api.store, api.credentials, 'dave');
      assert.equal((await enable('dave')).status, 409, 'never set up');
      await carol.api.request('POST', '/mfa-setup', { body: {} });
      assert.equal((await enable('carol')).status, 409, 'a pending setup is not a verified device');
    });

    test('a temporary password, then MFA: change-temporary-password answers the SOFTWARE_TOKEN_MFA challenge', async () => {
      const step = await awayFromStepEdge();
      const erin = await enrolled('erin', step);
      const reset = await admin.request('POST', '/users/erin/admin-reset-password');
      assert.equal(reset.status, 200);
      const temporary = { ...erin.credentials, password: reset.json.data as string };
      const first = await authenticate(api.app, temporary);
      assert.equal(first.json.data.challengeName, 'NEW_PASSWORD_REQUIRED');
      const changed = await api.request('POST', '/change-temporary-password', {
        body: { userID: 'erin', newPassword: 'erin-new-long-password', session: first.json.data.session },
        headers: keyOnlyHeaders(temporary),
      });
      assert.equal(changed.status, 200, changed.text);
      assert.equal(changed.json.data.challengeName, 'SOFTWARE_TOKEN_MFA');
      assert.equal(changed.json.data.authenticationResult, null);
      const passed = await submit(temporary, { username: 'erin', mfaCode: codeAt(erin.secret, step), session: changed.json.data.session });
      assert.equal(passed.status, 200, passed.text);
      assert.ok(passed.json.data.authenticationResult.refreshToken);
    });

    test('setup and verify refuse bad input; five wrong setup codes discard the setup; deleting a user deletes its device', async () => {
      const frank = await operatorUser(api.store, api.credentials, 'frank');
      const own = await session(api.app, api.store, frank);
      const verify = (body: unknown) => own.api.request('POST', '/mfa-verify-setup', { body });
      assert.equal((await verify({ userCode: '123456' })).status, 400, 'nothing to verify before /mfa-setup');
      assert.equal((await own.api.request('POST', '/mfa-setup', { body: [] })).status, 400);
      const boss = await authenticate(api.app, { ...api.credentials, username: 'boss', password: 'boss-long-password' });
      const foreign = await own.api.request('POST', '/mfa-setup', { body: { accessToken: boss.json.data.authenticationResult.accessToken } });
      assert.equal(foreign.status, 401, 'an access token in the body must be the caller\'s');
      const secret = (await own.api.request('POST', '/mfa-setup')).json.data.secretCode as string;
      const step = await awayFromStepEdge();
      assert.equal((await verify({})).status, 400);
      assert.equal((await verify({ userCode: codeAt(secret, step), friendlyDeviceName: 'x'.repeat(257) })).status, 400);
      assert.equal((await verify({ userCode: codeAt(secret, step), friendlyDeviceName: 5 })).status, 400);
      for (let i = 0; i < 5; i++) assert.equal((await verify({ userCode: wrongCode(secret, step) })).status, 400);
      const discarded = await verify({ userCode: codeAt(secret, step) });
      assert.equal(discarded.status, 400, 'the setup was discarded');
      assert.match(discarded.json.error.detail, /mfa-setup/);

      const fresh = (await own.api.request('POST', '/mfa-setup', { body: { accessToken: null } })).json.data.secretCode as string;
      assert.notEqual(fresh, secret);
      assert.equal((await verify({ userCode: codeAt(fresh, step) })).status, 200, 'no device name: a default one');
      assert.equal((await admin.get('/users/frank')).json.data.mfA_Device_Name, 'Authenticator app');
      assert.ok(await mfaRow('frank'));
      assert.equal((await admin.request('DELETE', '/users/frank')).status, 204);
      assert.equal(await mfaRow('frank'), undefined, 'the device went with the user');
    });

    test('the generated key is kept in the registry: another instance reads the same secrets; VBAPI_SECRET_KEY replaces it', async () => {
      const step = await awayFromStepEdge();
      const gina = await enrolled('gina', step);
      const [setting] = await api.store.registry.query<{ value: string }>(`SELECT value FROM settings WHERE name = 'mfa_secret_key'`);
      assert.equal(Buffer.from(setting!.value, 'base64url').length, 32);

      const second = await buildApp({ store: api.store, config: testConfig() });
      const keyed = await buildApp({ store: api.store, config: testConfig({ secretKey: randomBytes(32) }) });
      try {
        const challenge = await authenticate(second, gina.credentials);
        const passed = await apiOf(second, api.store, { apiKey: api.credentials.apiKey, token: '' }).request('POST', '/mfa-submit-code', {
          body: { username: 'gina', mfaCode: codeAt(gina.secret, step), session: challenge.json.data.session },
          headers: keyOnlyHeaders(gina.credentials),
        });
        assert.equal(passed.status, 200, passed.text);

        const henry = await session(keyed, api.store, await operatorUser(api.store, api.credentials, 'henry'));
        const secret = (await henry.api.request('POST', '/mfa-setup')).json.data.secretCode as string;
        assert.equal((await henry.api.request('POST', '/mfa-verify-setup', { body: { userCode: codeAt(secret, step) } })).status, 200);
        const keyId = (row: Record<string, unknown> | undefined) => String(row?.secret).split('.')[1];
        assert.notEqual(keyId(await mfaRow('henry')), keyId(await mfaRow('gina')), 'sealed with the configured key, not the generated one');
      } finally {
        await second.close();
        await keyed.close();
      }
    });

    test('6.5: the e-mail routes answer 501 in the envelope naming the route, with or without credentials', async () => {
      for (const route of NOT_IMPLEMENTED_ROUTES) {
        const path = route.replace('{userID}', 'alice');
        for (const prefix of ['', '/vbasoftware']) {
          const answer = await admin.request('POST', `${prefix}${path}`, { body: {} });
          assert.equal(answer.status, 501, `${prefix}${path}`);
          assert.equal(answer.json.data, null);
          assert.equal(answer.json.error.status, 501);
          assert.ok(answer.json.error.detail.includes(`POST ${route}`), answer.json.error.detail);
          assert.ok(answer.json.debug.activityID);
        }
        const bare = await api.request('POST', path, { headers: { 'x-api-key': undefined, authorization: undefined, 'vbasoftware-database': undefined } });
        assert.equal(bare.status, 501);
      }
    });
  });
}
