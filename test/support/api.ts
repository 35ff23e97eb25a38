import type { FastifyInstance } from 'fastify';
import type { OutgoingHttpHeaders } from 'node:http';
import { Accounts } from '../../src/auth/accounts.js';
import { loadConfig } from '../../src/config.js';
import { buildApp, type AppConfig } from '../../src/http/app.js';
import type { Store } from '../../src/store/store.js';
import { openStore, type BackendUnderTest, type StoreSetup } from './backends.js';
import { checkResponse } from './openapi-check.js';

export const TENANT = 'test';

export interface Answer {
  status: number;
  headers: OutgoingHttpHeaders;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  text: string;
}

/**
 * Defaults as a fresh install has them, but no rate limits (requests, logins) and no lockout unless
 * a test asks for one: tests that flood wrong passwords would otherwise lock their own user out.
 */
export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  return { ...loadConfig({}), rateLimit: null, loginRate: null, loginUserRate: null, lockoutAttempts: 0, ...overrides };
}

export interface Credentials {
  readonly clientId: string;
  readonly clientCode: string;
  readonly username: string;
  readonly password: string;
  readonly apiKey: string;
  readonly database: string;
}

/** A client with one API key and one user granted `database` (created when missing). */
export async function provision(store: Store, clientId: string, database: string, username = 'tester'): Promise<Credentials> {
  if (!(await store.find(database))) await store.createDatabase(database);
  const accounts = new Accounts(store.registry);
  const clientCode = `${clientId}-code`;
  const password = `${username}-password`;
  await accounts.createClient(clientId, clientCode);
  const { key } = await accounts.createKey(clientId);
  await accounts.createUser(clientId, username, password, [database]);
  return { clientId, clientCode, username, password, apiKey: key, database };
}

/** The headers of `POST /user-authentication` for these credentials. */
export function loginHeaders(credentials: Credentials): Record<string, string> {
  return {
    'x-api-key': credentials.apiKey,
    authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`,
    'vbasoftware-client-id': credentials.clientId,
    'vbasoftware-client-code': credentials.clientCode,
    'vbasoftware-database': credentials.database,
  };
}

/** Logs in through the API and returns the idToken. */
export async function login(app: FastifyInstance, credentials: Credentials): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/user-authentication', headers: { ...loginHeaders(credentials), 'user-agent': 'tests' } });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
  return (JSON.parse(response.body) as { data: { authenticationResult: { idToken: string } } }).data.authenticationResult.idToken;
}

export interface Api {
  readonly app: FastifyInstance;
  readonly store: Store;
  request(method: string, url: string, options?: { body?: unknown; raw?: string; headers?: Record<string, string | undefined> }): Promise<Answer>;
  put(url: string, body: unknown, headers?: Record<string, string | undefined>): Promise<Answer>;
  get(url: string, headers?: Record<string, string | undefined>): Promise<Answer>;
}

/** A running app (injected, not listening) on a fresh store with the tenant database `test`. */
export async function startApi(
  backend: BackendUnderTest,
  config: Partial<AppConfig> = {},
): Promise<Api & { stop(): Promise<void>; setup: StoreSetup; credentials: Credentials; token: string }> {
  const setup = await backend.prepare();
  const store = await openStore(setup);
  const api = await signedIn(store, 'test-client', TENANT, config);
  return {
    ...api,
    setup,
    async stop() {
      await api.app.close();
      await store.close();
      await setup.cleanup();
    },
  };
}

/** An app on `store`, and a client of it signed in as a new user of `clientId` granted `database`. */
export async function signedIn(
  store: Store,
  clientId: string,
  database: string,
  config: Partial<AppConfig> = {},
): Promise<Api & { credentials: Credentials; token: string }> {
  const credentials = await provision(store, clientId, database);
  const app = await buildApp({ store, config: testConfig(config) });
  const token = await login(app, credentials);
  return { ...apiOf(app, store, { apiKey: credentials.apiKey, token, database }), credentials, token };
}

/** Requests carrying the contract's headers: the tenant, a User-Agent, the API key and the bearer token. */
export function apiOf(app: FastifyInstance, store: Store, auth: { apiKey: string; token: string; database?: string }): Api {
  const request: Api['request'] = async (method, url, options = {}) => {
    const headers: Record<string, string> = {
      'vbasoftware-database': auth.database ?? TENANT,
      'user-agent': 'contract-tests',
      'x-api-key': auth.apiKey,
      authorization: `Bearer ${auth.token}`,
    };
    if (options.body !== undefined || options.raw !== undefined) headers['content-type'] = 'application/json';
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      if (value === undefined) delete headers[name];
      else headers[name] = value;
    }
    const response = await app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(options.raw !== undefined ? { payload: options.raw } : options.body !== undefined ? { payload: JSON.stringify(options.body) } : {}),
    });
    checkResponse(method, url, response.statusCode, response.headers, response.body);
    let json: unknown;
    try {
      json = response.body ? JSON.parse(response.body) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.statusCode, headers: response.headers, json, text: response.body };
  };
  return {
    app,
    store,
    request,
    put: (url, body, headers) => request('PUT', url, { body, ...(headers ? { headers } : {}) }),
    get: (url, headers) => request('GET', url, headers ? { headers } : {}),
  };
}

export type RunningApi = Awaited<ReturnType<typeof startApi>>;
