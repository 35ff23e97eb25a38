import type { FastifyInstance } from 'fastify';
import type { OutgoingHttpHeaders } from 'node:http';
import { buildApp } from '../../src/http/app.js';
import type { Store } from '../../src/store/store.js';
import { openStore, type BackendUnderTest, type StoreSetup } from './backends.js';

export const TENANT = 'test';

export interface Answer {
  status: number;
  headers: OutgoingHttpHeaders;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  text: string;
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
  limits: { maxBatchRecords?: number; maxBodyBytes?: number } = {},
): Promise<Api & { stop(): Promise<void>; setup: StoreSetup }> {
  const setup = await backend.prepare();
  const store = await openStore(setup);
  await store.createDatabase(TENANT);
  const app = await buildApp({
    store,
    config: { maxBatchRecords: limits.maxBatchRecords ?? 10_000, maxBodyBytes: limits.maxBodyBytes ?? 64 * 1024 * 1024 },
  });
  const api = apiOf(app, store);
  return {
    ...api,
    setup,
    async stop() {
      await app.close();
      await store.close();
      await setup.cleanup();
    },
  };
}

export function apiOf(app: FastifyInstance, store: Store): Api {
  const request: Api['request'] = async (method, url, options = {}) => {
    const headers: Record<string, string> = { 'vbasoftware-database': TENANT, 'user-agent': 'contract-tests' };
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
