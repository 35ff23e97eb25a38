import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { pgliteBackend, postgresBackend, type Backend } from './backends.js';
import type { Database } from './database.js';
import { StoreError } from './errors.js';
import { lockDataDir } from './lock.js';

export { StoreError };
import { migrate } from './migrate.js';
import { openPostgres, type PostgresOptions } from './postgres.js';
import { DATABASE_NAME, REGISTRY_LOCK, registryMigrations, type RegisteredDatabase } from './registry.js';
import { TENANT_LOCK, tenantMigrations } from './tenant-schema.js';

export type StoreConfig = Pick<Config, 'dataDir' | 'databaseUrl'> & Partial<Pick<Config, 'statementTimeoutMs'>>;

/**
 * The registry of tenant databases plus the open, migrated connection to each. The store is chosen
 * by configuration: PostgreSQL when DATABASE_URL is set, the embedded PGlite otherwise.
 */
export class Store {
  private readonly tenants = new Map<string, Promise<Database>>();

  private constructor(
    private readonly backend: Backend,
    private readonly logger: Logger,
    private readonly release: () => Promise<void>,
    private readonly postgresSettings: PostgresOptions = {},
  ) {}

  static async open(config: StoreConfig, logger: Logger): Promise<Store> {
    if (config.databaseUrl) {
      const settings = { statementTimeoutMs: config.statementTimeoutMs ?? 0 };
      const backend = postgresBackend(config.databaseUrl, logger, settings);
      return Store.init(backend, logger, async () => undefined, settings);
    }
    await mkdir(config.dataDir, { recursive: true });
    const unlock = await lockDataDir(config.dataDir);
    try {
      return await Store.init(await pgliteBackend(config.dataDir), logger, unlock);
    } catch (error) {
      await unlock();
      throw error;
    }
  }

  private static async init(backend: Backend, logger: Logger, release: () => Promise<void>, settings?: PostgresOptions): Promise<Store> {
    try {
      await migrate(backend.registry, registryMigrations, { lockId: REGISTRY_LOCK, what: 'the registry' });
    } catch (error) {
      await backend.close().catch(() => undefined);
      throw error;
    }
    return new Store(backend, logger, release, settings);
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
    const open = this.tenants.get(name);
    if (open) return open;
    if (!DATABASE_NAME.test(name)) return null;
    const entry = await this.find(name);
    if (!entry) return null;
    // Cached as a promise so concurrent first requests open and migrate it once.
    const opening = this.tenants.get(name) ?? this.openTenant(entry);
    this.tenants.set(name, opening);
    opening.catch(() => this.tenants.delete(name));
    return opening;
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
      const opened = this.tenants.get(name);
      this.tenants.delete(name);
      await (await opened?.catch(() => null))?.close().catch(() => undefined);
      // What this call created goes too (never an adopted --url database): a retry starts clean.
      if (created !== undefined) await this.backend.drop(created).catch((dropError: unknown) => this.logger.error({ err: dropError, location: created }, 'could not remove a database whose creation failed'));
      await this.backend.registry.query('DELETE FROM databases WHERE id = $1', [row.id]);
      throw error;
    }
  }

  private async openTenant(entry: RegisteredDatabase): Promise<Database> {
    if (!entry.location) throw new StoreError(`database "${entry.name}" is still being created`);
    const db = entry.external ? openPostgres(entry.location, this.logger, undefined, this.postgresSettings) : await this.backend.open(entry.location);
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
    const checks = [ping(this.backend.registry), ...[...this.tenants.values()].map(ping)];
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref());
    try {
      await Promise.race([Promise.all(checks), timeout]);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    const open = [...this.tenants.values()];
    this.tenants.clear();
    for (const tenant of open) await (await tenant.catch(() => null))?.close().catch(() => undefined);
    await this.backend.close();
    await this.release();
  }
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
