import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { after, before, describe } from 'node:test';
import type { Config } from '../../src/config.js';
import { Store } from '../../src/store/store.js';

/**
 * The two stores every contract test runs against. PostgreSQL is the machine's server (override
 * with VBAPI_TEST_PG_URL); each run creates its own registry database, so parallel runs never
 * collide, and drops it and every tenant database it made afterwards.
 */
export const ADMIN_URL = process.env.VBAPI_TEST_PG_URL ?? 'postgres://root@127.0.0.1:5432/postgres';

export interface StoreSetup {
  readonly config: Pick<Config, 'dataDir' | 'databaseUrl'>;
  /** Removes everything the setup created (call after closing the stores that use it). */
  cleanup(): Promise<void>;
}

export interface BackendUnderTest {
  readonly name: 'pglite' | 'postgres';
  /** A reason to skip, or false. */
  readonly skip: string | false;
  prepare(): Promise<StoreSetup>;
}

export const quietLogger = pino({ level: 'silent' });

async function postgresReachable(): Promise<string | false> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
    return false;
  } catch (error) {
    return (error as Error).message;
  }
}

const unreachable = await postgresReachable();
if (unreachable) {
  const message = `PostgreSQL at ${ADMIN_URL} is unreachable (${unreachable})`;
  if (process.env.CI === 'true') throw new Error(`${message}: the PostgreSQL tests are required when CI=true`);
  console.warn(`\n!!! ${message}: SKIPPING every PostgreSQL test. Only PGlite was tested. !!!\n`);
}

export const backends: readonly BackendUnderTest[] = [
  {
    name: 'pglite',
    skip: false,
    async prepare() {
      const dataDir = await mkdtemp(join(tmpdir(), 'vbapi-test-'));
      return { config: { dataDir, databaseUrl: undefined }, cleanup: () => rm(dataDir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    skip: unreachable ? `PostgreSQL unreachable: ${unreachable}` : false,
    prepare: preparePostgres,
  },
];

export async function preparePostgres(): Promise<StoreSetup> {
  const registry = `vbapi_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE "${registry}"`);
  const databaseUrl = new URL(ADMIN_URL);
  databaseUrl.pathname = `/${registry}`;
  return {
    config: { dataDir: '', databaseUrl: databaseUrl.toString() },
    async cleanup() {
      const databases = await adminQuery<{ datname: string }>(
        `SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2`,
        [registry, `${registry}\\_\\_t%`],
      );
      for (const { datname } of databases) await adminQuery(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    },
  };
}

export async function adminQuery<Row = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as Row[];
  } finally {
    await client.end();
  }
}

export async function openStore(setup: StoreSetup): Promise<Store> {
  return Store.open(setup.config, quietLogger);
}

/** What `describeStore`'s tests see: the backend, its setup and the store opened on it (set once `before` ran). */
export interface StoreUnderTest {
  readonly backend: BackendUnderTest;
  readonly setup: StoreSetup;
  readonly store: Store;
  /** Closes the store and opens it again on the same setup (what a restart does). */
  reopen(): Promise<Store>;
}

/**
 * One `describe` per backend around a store of its own: prepared and opened before the tests,
 * closed and cleaned up after them. `title` names the describe for each backend.
 */
export function describeStore(title: (backend: BackendUnderTest) => string, body: (context: StoreUnderTest) => void): void {
  for (const backend of backends) {
    describe(title(backend), { skip: backend.skip }, () => {
      let setup: StoreSetup | undefined;
      let store: Store | undefined;
      const context: StoreUnderTest = {
        backend,
        get setup() {
          if (!setup) throw new Error('the store is prepared in before()');
          return setup;
        },
        get store() {
          if (!store) throw new Error('the store is opened in before()');
          return store;
        },
        async reopen() {
          await store?.close();
          store = await openStore(context.setup);
          return store;
        },
      };
      before(async () => {
        setup = await backend.prepare();
        store = await openStore(setup);
      });
      after(async () => {
        await store?.close();
        await setup?.cleanup();
      });
      body(context);
    });
  }
}
