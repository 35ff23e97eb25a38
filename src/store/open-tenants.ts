import type { Database, Queryable } from './database.js';
import { StoreError } from './errors.js';

/**
 * The tenant databases this process has open, at most `max` at once (embedded PGlite instances cost
 * hundreds of MB each). Callers hold a `Database` handle that never goes stale: each call opens the
 * database if it was closed, and counts as in flight until it settles. Only a database with nothing
 * in flight is closed (the least recently used one, to make room, or any idle longer than `idleMs`),
 * so a close never interrupts a query or a transaction: no write is lost or half-applied.
 */
export class OpenTenants {
  private readonly tenants = new Map<string, Tenant>();
  private readonly roomWaiters: (() => void)[] = [];
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly max: number,
    private readonly idleMs: number,
    private readonly onClose: (name: string, error?: unknown) => void = () => undefined,
  ) {
    this.sweeper = setInterval(() => void this.closeIdle(Date.now() - idleMs), Math.min(idleMs, 30_000)).unref();
  }

  /** The handle of `name`, opened (by `open`) on first use and again after each close. */
  handle(name: string, open: () => Promise<Database>): Database {
    let tenant = this.tenants.get(name);
    if (!tenant) {
      tenant = new Tenant(name, open, this);
      this.tenants.set(name, tenant);
    }
    return tenant.handle;
  }

  /**
   * Forgets `name` (closing it when open): its registration failed, or it is being dropped. Its
   * handle is retired: a caller still holding it gets an error rather than reopening the database.
   */
  async remove(name: string): Promise<void> {
    const tenant = this.tenants.get(name);
    this.tenants.delete(name);
    tenant?.retire();
    await tenant?.close();
  }

  /** Databases open (or opening) now. */
  get openCount(): number {
    return [...this.tenants.values()].filter((tenant) => tenant.isOpen).length;
  }

  /** The open databases, for a health check (a closed one is not opened for it). */
  openDatabases(): Promise<Database>[] {
    return [...this.tenants.values()].flatMap((tenant) => tenant.current ?? []);
  }

  async closeIdle(before: number): Promise<void> {
    for (const tenant of this.tenants.values()) if (tenant.idleSince(before)) await tenant.close();
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.tenants.values()];
    this.tenants.clear();
    for (const tenant of all) await tenant.close();
  }

  /**
   * Waits until `tenant` may open, closing the least recently used idle database when at `max`;
   * `claim` runs in the same tick as the check, so two tenants never take the last place together.
   */
  async makeRoom(tenant: Tenant, claim: () => void): Promise<void> {
    for (;;) {
      if (this.openCount < this.max) return claim();
      const idle = [...this.tenants.values()].filter((other) => other !== tenant && other.isOpen && other.inFlight === 0);
      const oldest = idle.sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (oldest) {
        await oldest.close();
        continue;
      }
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve)); // every open one is busy
    }
  }

  /** A database went idle or closed: whoever waits for room looks again. */
  wake(): void {
    for (const resolve of this.roomWaiters.splice(0)) resolve();
  }

  closed(name: string, error?: unknown): void {
    this.onClose(name, error);
    this.wake();
  }
}

class Tenant {
  current: Promise<Database> | null = null;
  private closing: Promise<void> | null = null;
  private waitingForRoom: Promise<void> | null = null;
  inFlight = 0;
  lastUsed = Date.now();
  private retired = false;
  readonly handle: Database;

  constructor(
    private readonly name: string,
    private readonly open: () => Promise<Database>,
    private readonly owner: OpenTenants,
  ) {
    const use = async <T>(work: (db: Database) => Promise<T>): Promise<T> => {
      this.inFlight++;
      try {
        return await work(await this.database());
      } finally {
        this.inFlight--;
        this.lastUsed = Date.now();
        if (this.inFlight === 0) this.owner.wake();
      }
    };
    this.handle = {
      query: <Row>(sql: string, params?: readonly unknown[]) => use((db) => db.query<Row>(sql, params)),
      queryValues: (sql, params) => use((db) => db.queryValues(sql, params)),
      copyRows: (entity, rows) => use((db) => db.copyRows(entity, rows)),
      transaction: <T>(work: (tx: Queryable) => Promise<T>) => use((db) => db.transaction(work)),
      close: () => this.close(),
    };
  }

  /** Open, opening, or still closing: it holds (or is about to hold) a PGlite instance. */
  get isOpen(): boolean {
    return this.current !== null || this.closing !== null;
  }

  idleSince(before: number): boolean {
    return this.current !== null && this.inFlight === 0 && this.lastUsed <= before;
  }

  retire(): void {
    this.retired = true;
  }

  private async database(): Promise<Database> {
    for (;;) {
      if (this.retired) throw new StoreError(`database "${this.name}" is no longer registered`);
      while (this.closing) await this.closing;
      if (this.current) return this.current;
      this.waitingForRoom ??= this.owner
        .makeRoom(this, () => {
          const opening = this.open();
          this.current = opening;
          opening.catch(() => {
            if (this.current === opening) this.current = null;
            this.owner.wake();
          });
        })
        .finally(() => (this.waitingForRoom = null));
      await this.waitingForRoom;
    }
  }

  /** Closes the database once nothing is in flight (callers only close idle ones, but a shutdown may race). */
  async close(): Promise<void> {
    while (this.closing) await this.closing;
    const current = this.current;
    if (!current) return;
    this.current = null;
    this.closing = (async () => {
      const db = await current.catch(() => null);
      await db?.close().then(
        () => this.owner.closed(this.name),
        (error: unknown) => this.owner.closed(this.name, error),
      );
    })();
    try {
      await this.closing;
    } finally {
      this.closing = null;
    }
  }
}
