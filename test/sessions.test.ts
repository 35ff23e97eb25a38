import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../src/http/app.js';
import { apiOf, startApi, testConfig, type RunningApi } from './support/api.js';
import { backends, openStore, preparePostgres } from './support/backends.js';
import { keyOnlyHeaders, operatorUser, session } from './support/identity.js';
import { provision } from './support/api.js';

for (const backend of backends) {
  describe(`sessions (6.3) on ${backend.name}`, { skip: backend.skip }, () => {
    let api: RunningApi;
    before(async () => {
      api = await startApi(backend);
    });
    after(async () => api?.stop());

    const refresh = (idToken: string, refreshToken: string) =>
      api.request('POST', '/user-refresh-tokens', {
        headers: { ...keyOnlyHeaders(api.credentials), 'expired-id-token': idToken, 'refresh-token': refreshToken },
      });
    const works = async (token: string) =>
      (await apiOf(api.app, api.store, { apiKey: api.credentials.apiKey, token }).get('/groups')).status;

    test('a refresh token works once: rotation gives new tokens, reuse ends the whole session', async () => {
      const first = await session(api.app, api.store, api.credentials);
      const rotated = await refresh(first.idToken, first.refreshToken);
      assert.equal(rotated.status, 200, rotated.text);
      const result = rotated.json.data.authenticationResult;
      assert.notEqual(result.refreshToken, first.refreshToken);
      assert.notEqual(result.idToken, first.idToken);
      assert.equal(await works(result.idToken), 200);
      assert.equal(await works(first.idToken), 200, 'the older id token of a live session still works until it expires');

      const again = await refresh(result.idToken, result.refreshToken);
      assert.equal(again.status, 200, 'the new refresh token works (once)');
      const next = again.json.data.authenticationResult;

      const reuse = await refresh(first.idToken, first.refreshToken);
      assert.equal(reuse.status, 401, 'a used refresh token is refused');
      for (const token of [first.idToken, result.idToken, next.idToken]) assert.equal(await works(token), 401, 'reuse ended the session');
      assert.equal((await refresh(next.idToken, next.refreshToken)).status, 401, 'its latest refresh token too');
      assert.equal(await works(api.token), 200, 'other sessions of the user are untouched');
    });

    test('the expired id token must be of the same session; garbage and missing headers → 401', async () => {
      const one = await session(api.app, api.store, api.credentials);
      const two = await session(api.app, api.store, api.credentials);
      assert.equal((await refresh(two.idToken, one.refreshToken)).status, 401);
      assert.equal((await refresh('not-a-token', one.refreshToken)).status, 401);
      assert.equal((await refresh(one.idToken, 'vbr_garbage')).status, 401);
      assert.equal((await refresh(one.idToken, '')).status, 401);
      assert.equal((await refresh(one.idToken, one.refreshToken)).status, 200, 'a refused attempt did not spend the token');
    });

    test('logout ends that session only: id token and refresh token stop working', async () => {
      const mine = await session(api.app, api.store, api.credentials);
      const other = await session(api.app, api.store, api.credentials);
      assert.equal((await mine.api.request('POST', '/logout')).status, 204);
      assert.equal(await works(mine.idToken), 401);
      assert.equal(await works(mine.accessToken), 401, 'the access token too');
      assert.equal((await refresh(mine.idToken, mine.refreshToken)).status, 401);
      assert.equal(await works(other.idToken), 200);
    });

    test('kick ends the caller\'s own longest-running other session', async () => {
      const kim = await operatorUser(api.store, api.credentials, 'kim');
      const oldest = await session(api.app, api.store, kim);
      await sleep(20);
      const newer = await session(api.app, api.store, kim);
      await sleep(20);
      const current = await session(api.app, api.store, kim);
      assert.equal((await current.api.request('POST', '/kick')).status, 204);
      assert.equal(await works(oldest.idToken), 401);
      assert.equal(await works(newer.idToken), 200);
      assert.equal(await works(current.idToken), 200);
      assert.equal((await newer.api.request('POST', '/kick')).status, 204);
      assert.equal((await newer.api.request('POST', '/kick')).status, 204, 'no other session left: still 204');
      assert.equal(await works(newer.idToken), 200);
    });
  });
}

describe('revocation reaches a second server instance sharing the PostgreSQL registry', { skip: backends[1]!.skip }, () => {
  test('logout on one instance: the other refuses the token within a second', async () => {
    const setup = await preparePostgres();
    const storeA = await openStore(setup);
    const storeB = await openStore(setup);
    const appA = await buildApp({ store: storeA, config: testConfig() });
    const appB = await buildApp({ store: storeB, config: testConfig() });
    try {
      const credentials = await provision(storeA, 'shared', 'test');
      const mine = await session(appA, storeA, credentials);
      const onB = apiOf(appB, storeB, { apiKey: credentials.apiKey, token: mine.idToken });
      assert.equal((await onB.get('/groups')).status, 200, 'B accepts the token (and remembers the session is live)');
      assert.equal((await mine.api.request('POST', '/logout')).status, 204);
      await sleep(1_000);
      assert.equal((await onB.get('/groups')).status, 401, 'B refuses it a second after the logout on A');
      assert.equal((await mine.api.get('/groups')).status, 401, 'A at once');
    } finally {
      await appA.close();
      await appB.close();
      await storeA.close();
      await storeB.close();
      await setup.cleanup();
    }
  });
});
