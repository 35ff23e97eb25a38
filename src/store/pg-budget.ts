import pg from 'pg';

/**
 * The connections one server process may hold to one PostgreSQL server (host:port), shared by the
 * registry and every tenant database on it. Each database has its own idle clients; a request
 * that needs a connection gets, in order: an idle client of its database, a new connection while
 * the budget allows one, a new connection in place of another database's least recently used idle
 * client, or a place in one first-come-first-served queue across all databases (up to
 * `acquireTimeoutMs`, then an error the HTTP layer answers 503 with Retry-After).
 * Idle clients are closed after `idleMs`, so an idle tenant holds no connection at all.
 */
export interface BudgetOptions {
  readonly max: number;
  readonly acquireTimeoutMs: number;
  readonly idleMs: number;
}

export interface PoolStats {
  readonly server: string;
  readonly inUse: number;
  readonly idle: number;
  readonly waiting: number;
  readonly max: number;
}

interface Idle {
  readonly client: pg.Client;
  readonly pool: BudgetPool;
  readonly since: number;
}

interface Waiter {
  readonly pool: BudgetPool;
  readonly resolve: (client: pg.Client) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** Thrown when no connection came free in time: the HTTP layer answers 503 and `Retry-After`. */
class ConnectionBudgetExhausted extends Error {
  readonly code = '53300'; // too_many_connections: classified "unavailable"
  constructor(
    readonly server: string,
    readonly retryAfterSeconds: number,
  ) {
    super(`no PostgreSQL connection to ${server} came free in time (VBAPI_PG_MAX_CONNECTIONS); retry in ${retryAfterSeconds} s`);
  }
}

export class ConnectionBudget {
  private open = 0;
  private inUse = 0;
  /** Oldest first: the least recently used idle client is closed first when another database needs a slot. */
  private idle: Idle[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    readonly server: string,
    private readonly options: BudgetOptions,
  ) {
    this.sweeper = setInterval(() => this.closeIdle(Date.now() - options.idleMs), Math.min(options.idleMs, 30_000)).unref();
  }

  /** A connected client for `pool`'s database; give it back with `release`. */
  async acquire(pool: BudgetPool): Promise<pg.Client> {
    const own = this.takeIdle(pool);
    if (own) return this.lend(own);
    if (this.waiters.length === 0 && this.makeRoom()) return this.lend(await this.connect(pool));
    return new Promise<pg.Client>((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(new ConnectionBudgetExhausted(this.server, Math.max(1, Math.ceil(this.options.acquireTimeoutMs / 2000))));
      }, this.options.acquireTimeoutMs);
      const waiter: Waiter = { pool, resolve, reject, timer };
      this.waiters.push(waiter);
    });
  }

  /** Gives a client back; `broken` ones (a failed transaction, a lost connection) are closed, not reused. */
  release(pool: BudgetPool, client: pg.Client, broken: boolean): void {
    this.inUse--;
    if (broken) {
      this.discard(client);
    } else {
      const next = this.waiters[0];
      if (next && next.pool === pool) {
        this.waiters.shift();
        clearTimeout(next.timer);
        this.inUse++;
        next.resolve(client);
        return;
      }
      this.idle.push({ client, pool, since: Date.now() });
    }
    this.serveWaiters();
  }

  /** Closes `pool`'s idle clients (the pool's database is being closed). */
  async closePool(pool: BudgetPool): Promise<void> {
    const mine = this.idle.filter((idle) => idle.pool === pool);
    this.idle = this.idle.filter((idle) => idle.pool !== pool);
    await Promise.all(mine.map((idle) => this.end(idle.client)));
    this.serveWaiters();
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const idle = this.idle;
    this.idle = [];
    await Promise.all(idle.map((entry) => this.end(entry.client)));
  }

  stats(): PoolStats {
    return { server: this.server, inUse: this.inUse, idle: this.idle.length, waiting: this.waiters.length, max: this.options.max };
  }

  /** Closes idle clients unused since `before`; also serves waiters that the freed slots allow. */
  closeIdle(before: number): void {
    const stale = this.idle.filter((idle) => idle.since <= before);
    if (!stale.length) return;
    this.idle = this.idle.filter((idle) => idle.since > before);
    for (const idle of stale) void this.end(idle.client);
    this.serveWaiters();
  }

  private takeIdle(pool: BudgetPool): pg.Client | undefined {
    // Most recently used first: its connection is the least likely to have been dropped.
    for (let at = this.idle.length - 1; at >= 0; at--) {
      if (this.idle[at]!.pool === pool) return this.idle.splice(at, 1)[0]!.client;
    }
    return undefined;
  }

  /** Whether a new connection may be opened now, closing another database's LRU idle client if needed. */
  private makeRoom(): boolean {
    if (this.open < this.options.max) return true;
    const oldest = this.idle.shift();
    if (!oldest) return false;
    void this.end(oldest.client);
    return true;
  }

  /** Hands freed capacity to the queue, first come first served. */
  private serveWaiters(): void {
    while (this.waiters.length) {
      const next = this.waiters[0]!;
      const own = this.takeIdle(next.pool);
      if (!own && !this.makeRoom()) return;
      this.waiters.shift();
      clearTimeout(next.timer);
      if (own) {
        next.resolve(this.lend(own));
      } else {
        this.inUse++;
        this.connect(next.pool).then(next.resolve, (error: Error) => {
          this.inUse--;
          next.reject(error);
        });
      }
    }
  }

  private lend(client: pg.Client): pg.Client {
    this.inUse++;
    return client;
  }

  /** Opens a connection counted against the budget (counted from now, so concurrent opens never overshoot). */
  private async connect(pool: BudgetPool): Promise<pg.Client> {
    this.open++;
    const client = pool.newClient();
    try {
      await client.connect();
    } catch (error) {
      this.open--;
      void client.end().catch(() => undefined);
      this.serveWaiters();
      throw Object.assign(error as Error, { code: (error as { code?: string }).code ?? '08006' }); // connection_failure
    }
    // A connection the server drops while idle must not crash the process: it is closed and forgotten.
    client.on('error', (error) => {
      pool.onIdleError(error);
      const at = this.idle.findIndex((idle) => idle.client === client);
      if (at >= 0) {
        this.idle.splice(at, 1);
        this.discard(client);
      }
    });
    return client;
  }

  private discard(client: pg.Client): void {
    void this.end(client);
    this.serveWaiters();
  }

  private ended = new WeakSet<pg.Client>();
  private async end(client: pg.Client): Promise<void> {
    if (this.ended.has(client)) return;
    this.ended.add(client);
    this.open--;
    await client.end().catch(() => undefined);
  }
}

/** One database's share of a budget: how to connect to it. */
export class BudgetPool {
  private closed = false;

  constructor(
    readonly budget: ConnectionBudget,
    private readonly config: pg.ClientConfig,
    readonly onIdleError: (error: Error) => void,
  ) {}

  newClient(): pg.Client {
    return new pg.Client(this.config);
  }

  acquire(): Promise<pg.Client> {
    return this.budget.acquire(this);
  }

  release(client: pg.Client, broken = false): void {
    this.budget.release(this, client, broken || this.closed);
  }

  /** Closes the idle connections; ones in use are closed when given back. */
  close(): Promise<void> {
    this.closed = true;
    return this.budget.closePool(this);
  }
}

/** The budgets of this process, one per PostgreSQL server (host:port). */
export class Budgets {
  private readonly byServer = new Map<string, ConnectionBudget>();

  constructor(private readonly options: BudgetOptions) {}

  for(connectionString: string): ConnectionBudget {
    const server = serverOf(connectionString);
    let budget = this.byServer.get(server);
    if (!budget) {
      budget = new ConnectionBudget(server, this.options);
      this.byServer.set(server, budget);
    }
    return budget;
  }

  stats(): PoolStats[] {
    return [...this.byServer.values()].map((budget) => budget.stats());
  }

  async close(): Promise<void> {
    await Promise.all([...this.byServer.values()].map((budget) => budget.close()));
    this.byServer.clear();
  }
}

/** host:port as the connection string names it (defaults as libpq's); never the user or password. */
function serverOf(connectionString: string): string {
  const url = new URL(connectionString);
  const host = decodeURIComponent(url.hostname || url.searchParams.get('host') || 'localhost');
  return `${host}:${url.port || url.searchParams.get('port') || '5432'}`;
}
