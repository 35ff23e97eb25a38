import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { pgliteBackend, postgresBackend, type Backend } from './backends.js';
import type { Database } from './database.js';
import { StoreError } from './errors.js';
import { lockDataDir } from './lock.js';
import { OpenTenants } from './open-tenants.js';
import { Budgets, type PoolStats } from './pg-budget.js';

export { StoreError };
import { migrate } from './migrate.js';
import { openPostgres, type PostgresOptions } from './postgres.js';
import { DATABASE_NAME, REGISTRY_LOCK, registryMigrations, type RegisteredDatabase } from './registry.js';
import { TENANT_LOCK, tenantMigrations } from './tenant-schema.js';

/** How long a process trusts that a tenant it has open is still registered (see `Store.tenant`). */
export const TENANT_RECHECK_MS = 5_000;

/** What the store needs from the configuration; the tenant-lifecycle limits default as in config.ts. */
export type StoreConfig = Pick<Config, 'dataDir' | 'databaseUrl'> &
  Partial<Pick<Config, 'statementTimeoutMs' | 'pgPreparedStatements' | 'pgliteSharedBuffersMb' | 'pgMaxConnections' | 'pgAcquireTimeoutMs' | 'tenantIdleSeconds' | 'maxOpenTenants'>>;

/** A read-only snapshot for metrics: open tenant databases, and each PostgreSQL server's connection budget. */
export interface StoreStats {
  readonly openTenants: number;
  readonly pools: readonly PoolStats[];
}

/**
 * The registry of tenant databases plus the open, migrated connection to each. The store is chosen
 * by configuration: PostgreSQL when DATABASE_URL is set, the embedded PGlite otherwise.
 */
export class Store {
  /** Handles of the tenants looked up so far (each opened on use, closed when idle). */
  private readonly handles = new Map<string, Promise<Database>>();
  /** Per handle: the registry id it was opened for, and when the registry last confirmed it. */
  private readonly seen = new Map<string, { id: number; at: number }>();
  /** Databases being dropped: looked up as if gone already. */
  private readonly dropping = new Set<string>();

  private constructor(
    private readonly backend: Backend,
    private readonly logger: Logger,
    private readonly budgets: Budgets,
    private readonly release: () => Promise<void>,
    private readonly tenants: OpenTenants,
    private readonly postgresSettings: PostgresOptions,
  ) {}

  static async open(config: StoreConfig, logger: Logger): Promise<Store> {
    // Every PostgreSQL connection this process opens goes through these budgets (one per server).
    const budgets = new Budgets({
      max: config.pgMaxConnections ?? 20,
      acquireTimeoutMs: config.pgAcquireTimeoutMs ?? 10_000,
      idleMs: (config.tenantIdleSeconds ?? 300) * 1000,
    });
    if (config.databaseUrl) {
      const backend = postgresBackend(config.databaseUrl, logger, budgets, postgresSettings(config));
      return Store.init(backend, logger, budgets, async () => undefined, config);
    }
    await mkdir(config.dataDir, { recursive: true });
    const unlock = await lockDataDir(config.dataDir);
    try {
      return await Store.init(await pgliteBackend(config.dataDir, { sharedBuffersMb: config.pgliteSharedBuffersMb }), logger, budgets, unlock, config);
    } catch (error) {
      await unlock();
      throw error;
    }
  }

  private static async init(
    backend: Backend,
    logger: Logger,
    budgets: Budgets,
    release: () => Promise<void>,
    config: StoreConfig,
  ): Promise<Store> {
    try {
      await migrate(backend.registry, registryMigrations, { lockId: REGISTRY_LOCK, what: 'the registry' });
    } catch (error) {
      await backend.close().catch(() => undefined);
      await budgets.close();
      throw error;
    }
    // PostgreSQL tenants cost no more than their connections (budgeted): only embedded ones are capped.
    const max = backend.kind === 'pglite' ? (config.maxOpenTenants ?? 8) : Number.MAX_SAFE_INTEGER;
    const tenants = new OpenTenants(max, (config.tenantIdleSeconds ?? 300) * 1000, (database, error) => {
      if (error) logger.warn({ err: error, database }, 'closing a tenant database failed');
      else logger.debug({ database }, 'closed an idle tenant database');
    });
    return new Store(backend, logger, budgets, release, tenants, postgresSettings(config));
  }

  /**
   * For metrics (read-only): how many tenant databases are open in this process, and per PostgreSQL
   * server the connections in use, idle, the requests waiting for one, and the budget.
   */
  stats(): StoreStats {
    return { openTenants: this.tenants.openCount, pools: this.budgets.stats() };
  }

  get kind(): Backend['kind'] {
    return this.backend.kind;
  }

  /** The registry, for the server's own tables. */
  get registry(): Database {
    return this.backend.registry;
  }

  /**
   * The tenant database registered under `name`, opened and migrated, or null when there is none.
   * The name passes the allow-list before it is looked up (as a parameter) in the registry.
   */
  async tenant(name: string): Promise<Database | null> {
    if (this.dropping.has(name)) return null;
    const known = this.handles.get(name);
    if (known) {
      const seen = this.seen.get(name);
      if (!seen || Date.now() - seen.at < TENANT_RECHECK_MS) return known;
      // Another process sharing the registry (PostgreSQL) may have dropped it, or dropped and
      // created it again elsewhere: one indexed lookup every few seconds notices.
      seen.at = Date.now();
      const current = await this.find(name);
      if (current?.id === seen.id) return known;
      if (this.handles.get(name) === known) await this.forget(name);
      if (!current) return null;
    }
    if (!DATABASE_NAME.test(name)) return null;
    const entry = await this.find(name);
    if (!entry || this.dropping.has(name)) return null;
    // Cached as a promise so concurrent first requests open and migrate it once.
    const already = this.handles.get(name);
    if (already) return already;
    const looking = this.firstOpen(entry);
    this.handles.set(name, looking);
    this.seen.set(name, { id: entry.id, at: Date.now() });
    looking.catch(() => {
      if (this.handles.get(name) === looking) {
        this.handles.delete(name);
        this.seen.delete(name);
      }
    });
    return looking;
  }

  /** Closes and forgets this process's handle of `name`; whoever still holds it gets an error. */
  private async forget(name: string): Promise<void> {
    this.handles.delete(name);
    this.seen.delete(name);
    await this.tenants.remove(name);
  }

  /**
   * Unregisters a database and removes it (an adopted `--url` database is only unregistered: it
   * belongs to its operator). Refused while users are granted it, unless `force` (their grants go
   * with it). Its sessions end. This process closes it first; other processes sharing a PostgreSQL
   * registry lose their connections to it (DROP … WITH (FORCE)) and stop looking it up within
   * TENANT_RECHECK_MS. The registry itself is never a tenant, so it cannot be named here.
   */
  async dropDatabase(name: string, options: { force?: boolean } = {}): Promise<{ entry: RegisteredDatabase; grants: number }> {
    const known = DATABASE_NAME.test(name) ? await this.find(name) : null;
    if (!known) throw new StoreError(`no database "${name}"`);
    this.dropping.add(name);
    try {
      const grants = await this.backend.registry.transaction(async (tx) => {
        // Locks the row: a grant made meanwhile waits for this transaction (its foreign key) and then fails.
        const [entry] = await tx.query<RegisteredDatabase>('SELECT id FROM databases WHERE id = $1 FOR UPDATE', [known.id]);
        if (!entry) throw new StoreError(`no database "${name}"`);
        const granted = await tx.query<{ who: string }>(
          `SELECT client_id || '/' || username AS who FROM user_databases WHERE database_id = $1 ORDER BY client_id, username`,
          [known.id],
        );
        if (granted.length && !options.force) {
          const names = granted.slice(0, 5).map((row) => row.who).join(', ') + (granted.length > 5 ? ', …' : '');
          throw new StoreError(`database "${name}" is granted to ${granted.length} user(s) (${names}); give --force to drop it and their grants`);
        }
        await tx.query('DELETE FROM databases WHERE id = $1', [known.id]); // grants go with it (ON DELETE CASCADE)
        // Sessions name their database as text: a later database of the same name must not revive them.
        await tx.query(`UPDATE sessions SET revoked_at = now(), revoked_reason = 'database dropped' WHERE database = $1 AND revoked_at IS NULL`, [name]);
        await tx.query('DELETE FROM challenges WHERE database = $1', [name]);
        return granted.length;
      });
      await this.forget(name);
      if (!known.external) {
        await this.backend.drop(known.location).catch((error: unknown) => {
          throw new StoreError(`database "${name}" is unregistered, but removing ${known.location} failed: ${(error as Error).message}`);
        });
      }
      return { entry: known, grants };
    } finally {
      this.dropping.delete(name);
    }
  }

  /** A handle that opens (and migrates) the database on use; opened once now, so errors show here. */
  private async firstOpen(entry: RegisteredDatabase): Promise<Database> {
    const handle = this.tenants.handle(entry.name, () => this.openTenant(entry));
    try {
      await handle.query('SELECT 1');
      return handle;
    } catch (error) {
      await this.tenants.remove(entry.name);
      throw error;
    }
  }

  async find(name: string): Promise<RegisteredDatabase | null> {
    const [row] = await this.backend.registry.query<RegisteredDatabase>(
      'SELECT id, name, location, external FROM databases WHERE name = $1',
      [name],
    );
    return row ?? null;
  }

  async list(): Promise<RegisteredDatabase[]> {
    return this.backend.registry.query<RegisteredDatabase>('SELECT id, name, location, external FROM databases ORDER BY name');
  }

  /** Registers a database and creates it (or, with `url`, adopts one that lives on another PostgreSQL server). */
  async createDatabase(name: string, options: { url?: string } = {}): Promise<RegisteredDatabase> {
    if (!DATABASE_NAME.test(name)) {
      throw new StoreError(`invalid database name "${name}": use 1-63 letters, digits, "_" or "-", starting with a letter or digit`);
    }
    if (await this.find(name)) throw new StoreError(`database "${name}" already exists`);
    if (options.url !== undefined) assertPostgresUrl(options.url);
    const [row] = await this.backend.registry.query<{ id: number }>(
      `INSERT INTO databases (name, location, external) VALUES ($1, '', $2) ON CONFLICT (name) DO NOTHING RETURNING id`,
      [name, options.url !== undefined],
    );
    if (!row) throw new StoreError(`database "${name}" already exists`);
    let created: string | undefined;
    try {
      const location = options.url ?? (created = await this.backend.create(row.id));
      await this.backend.registry.query('UPDATE databases SET location = $1 WHERE id = $2', [location, row.id]);
      const entry = { id: row.id, name, location, external: options.url !== undefined };
      await this.tenant(name);
      return entry;
    } catch (error) {
      await this.forget(name);
      // What this call created goes too (never an adopted --url database): a retry starts clean.
      if (created !== undefined) await this.backend.drop(created).catch((dropError: unknown) => this.logger.error({ err: dropError, location: created }, 'could not remove a database whose creation failed'));
      await this.backend.registry.query('DELETE FROM databases WHERE id = $1', [row.id]);
      throw error;
    }
  }

  private async openTenant(entry: RegisteredDatabase): Promise<Database> {
    if (!entry.location) throw new StoreError(`database "${entry.name}" is still being created`);
    const db = entry.external ? openPostgres(entry.location, this.logger, this.budgets, this.postgresSettings) : await this.backend.open(entry.location);
    try {
      const applied = await migrate(db, tenantMigrations, { lockId: TENANT_LOCK, what: `database "${entry.name}"` });
      if (applied.length) this.logger.info({ database: entry.name, applied }, 'migrated database');
      return db;
    } catch (error) {
      await db.close().catch(() => undefined);
      throw error;
    }
  }

  /** Whether the registry and every opened tenant database answer within two seconds. */
  async ready(): Promise<boolean> {
    const ping = async (db: Promise<Database> | Database) => (await db).query('SELECT 1');
    const checks = [ping(this.backend.registry), ...this.tenants.openDatabases().map(ping)];
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref());
    try {
      await Promise.race([Promise.all(checks), timeout]);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.handles.clear();
    this.seen.clear();
    await this.tenants.close();
    await this.backend.close();
    await this.budgets.close();
    await this.release();
  }
}

function postgresSettings(config: StoreConfig): PostgresOptions {
  return { statementTimeoutMs: config.statementTimeoutMs ?? 0, preparedStatements: config.pgPreparedStatements ?? true };
}

function assertPostgresUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StoreError('--url must be a PostgreSQL URL, e.g. postgres://user:password@host:5432/dbname');
  }
  if (!['postgres:', 'postgresql:'].includes(parsed.protocol) || parsed.pathname.length < 2) {
    throw new StoreError('--url must be a PostgreSQL URL naming a database, e.g. postgres://user:password@host:5432/dbname');
  }
}
