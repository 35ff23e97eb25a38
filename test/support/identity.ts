import type { FastifyInstance } from 'fastify';
import { Accounts } from '../../src/auth/accounts.js';
import type { Store } from '../../src/store/store.js';
import { apiOf, loginHeaders, type Api, type Credentials, type RunningApi } from './api.js';
import { checkResponse } from './openapi-check.js';

/** A `Users` body as a generated client sends it: every required field, server-owned ones included. */
export function userBody(userId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    user_ID: userId,
    eMail_Address: `${userId}@example.com`,
    account_Locked: false,
    administrator: false,
    audit_User: false,
    iD_Card_Notification: false,
    is_SSO_User: false,
    mfA_Enabled: false,
    nav_ID_Underline: false,
    single_Use_Account: false,
    use_Windows_Authentication: false,
    vbA_Password_Reset: false,
    vbA_User: true,
    ...overrides,
  };
}

/** A user of `base`'s client made by the operator (permanent password), with these options. */
export async function operatorUser(
  store: Store,
  base: Credentials,
  username: string,
  options: { administrator?: boolean; temporary?: boolean } = {},
): Promise<Credentials> {
  const credentials = { ...base, username, password: `${username}-long-password` };
  await new Accounts(store.registry).createUser(base.clientId, username, credentials.password, [base.database], options);
  return credentials;
}

/** POST /user-authentication, checked against the OpenAPI document; returns status and JSON. */
export async function authenticate(app: FastifyInstance, credentials: Credentials) {
  const response = await app.inject({ method: 'POST', url: '/user-authentication', headers: { ...loginHeaders(credentials), 'user-agent': 'tests' } });
  checkResponse('POST', '/user-authentication', response.statusCode, response.headers, response.body);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: response.statusCode, json: JSON.parse(response.body) as any };
}

/** Logs in (no challenge expected) and returns an Api for that user plus the authentication result. */
export async function session(app: FastifyInstance, store: Store, credentials: Credentials) {
  const answer = await authenticate(app, credentials);
  if (answer.status !== 200 || !answer.json.data.authenticationResult) throw new Error(`login failed: ${answer.status} ${JSON.stringify(answer.json)}`);
  const result = answer.json.data.authenticationResult as { idToken: string; accessToken: string; refreshToken: string };
  const api: Api = apiOf(app, store, { apiKey: credentials.apiKey, token: result.idToken, database: credentials.database });
  return { api, ...result };
}

/** The key-only headers of change-temporary-password and refresh. */
export function keyOnlyHeaders(credentials: Credentials): Record<string, string | undefined> {
  return {
    'x-api-key': credentials.apiKey,
    'vbasoftware-client-id': credentials.clientId,
    'vbasoftware-client-code': credentials.clientCode,
    'vbasoftware-database': credentials.database,
    authorization: undefined,
  };
}

/** An Api for a new administrator ("boss" unless named) of the running API's client, logged in. */
export async function administrator(api: RunningApi, username = 'boss'): Promise<Api> {
  return (await session(api.app, api.store, await operatorUser(api.store, api.credentials, username, { administrator: true }))).api;
}
