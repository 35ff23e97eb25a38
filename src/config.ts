/** Environment → typed configuration, read once and checked up front (fail fast, one clear line). */
export interface Config {
  readonly host: string;
  readonly port: number;
  /** Embedded store's directory (one PGlite data directory per database). */
  readonly dataDir: string;
  /** When set, PostgreSQL is the store: this database holds the registry, tenants are its siblings. */
  readonly databaseUrl: string | undefined;
  readonly maxBatchRecords: number;
  readonly maxBodyBytes: number;
  /** Deepest nesting of arrays/objects a JSON body may have (a batch needs 2). */
  readonly maxJsonDepth: number;
  /** Total size of a request's headers. */
  readonly maxHeaderBytes: number;
  /** Time to receive a whole request (and, for queries, to run one). */
  readonly requestTimeoutMs: number;
  readonly logLevel: string;
  /** HS256 signing key for tokens; unset = generated once and kept in the registry. */
  readonly jwtSecret: string | undefined;
  readonly tokenLifetimeSeconds: number;
  /** Per API key; null = off. */
  readonly rateLimit: { readonly perSecond: number; readonly burst: number } | null;
  /** When set, rate-limit buckets live in Redis and are shared by every server instance. */
  readonly redisUrl: string | undefined;
  /** Connections this process may hold to one PostgreSQL server (registry and every tenant together). */
  readonly pgMaxConnections: number;
  /** How long a request waits for a PostgreSQL connection before a 503 with Retry-After. */
  readonly pgAcquireTimeoutMs: number;
  /** A tenant unused this long gives back its connections (PostgreSQL) or is closed (embedded). */
  readonly tenantIdleSeconds: number;
  /** Embedded databases open at once; the least recently used idle one is closed to open another. */
  readonly maxOpenTenants: number;
}

export class ConfigError extends Error {}

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.has(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${[...LOG_LEVELS].join(', ')}`);
  return {
    host: env.HOST ?? '127.0.0.1',
    port: integer(env, 'PORT', 8080, 0, 65_535),
    dataDir: env.VBAPI_DATA_DIR || './data',
    databaseUrl: env.DATABASE_URL || undefined,
    maxBatchRecords: integer(env, 'VBAPI_MAX_BATCH_RECORDS', 10_000, 1, 1_000_000),
    maxBodyBytes: integer(env, 'VBAPI_MAX_BODY_BYTES', 64 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxJsonDepth: integer(env, 'VBAPI_MAX_JSON_DEPTH', 32, 2, 10_000),
    maxHeaderBytes: integer(env, 'VBAPI_MAX_HEADER_BYTES', 16 * 1024, 1024, 1024 * 1024),
    requestTimeoutMs: integer(env, 'VBAPI_REQUEST_TIMEOUT_MS', 120_000, 1_000, 3_600_000),
    logLevel,
    jwtSecret: secret(env.VBAPI_JWT_SECRET),
    tokenLifetimeSeconds: integer(env, 'VBAPI_TOKEN_TTL_SECONDS', 86_400, 1, 31 * 86_400),
    rateLimit: rateLimit(env.VBAPI_RATE_LIMIT ?? '25/50'),
    redisUrl: env.REDIS_URL || undefined,
    pgMaxConnections: integer(env, 'VBAPI_PG_MAX_CONNECTIONS', 20, 2, 10_000),
    pgAcquireTimeoutMs: integer(env, 'VBAPI_PG_ACQUIRE_TIMEOUT_MS', 10_000, 100, 600_000),
    tenantIdleSeconds: integer(env, 'VBAPI_TENANT_IDLE_SECONDS', 300, 1, 86_400),
    maxOpenTenants: integer(env, 'VBAPI_MAX_OPEN_TENANTS', 8, 1, 10_000),
  };
}

function secret(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (value.length < 32) throw new ConfigError('VBAPI_JWT_SECRET must be at least 32 characters');
  return value;
}

/** `25/50` = 25 requests/s sustained, bursts of 50; `off` = no limit. */
function rateLimit(value: string): Config['rateLimit'] {
  if (value === 'off') return null;
  const match = /^(\d+(?:\.\d+)?)\/(\d+)$/.exec(value);
  const perSecond = Number(match?.[1]);
  const burst = Number(match?.[2]);
  if (!match || perSecond <= 0 || burst < 1) {
    throw new ConfigError(`VBAPI_RATE_LIMIT must be "<per second>/<burst>" (e.g. 25/50) or "off", got "${value}"`);
  }
  return { perSecond, burst };
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}
